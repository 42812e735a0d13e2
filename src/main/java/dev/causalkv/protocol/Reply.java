package dev.causalkv.protocol;

import dev.causalkv.core.Siblings;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.core.ViewState;
import java.util.List;

/** An answer to a request event, named by the request's id; the edge turns it into HTTP. */
public sealed interface Reply {

  long id();

  /** What a client operation came to; the edge maps each to the assignment's status and message. */
  enum Outcome {
    /** GET of an existing key: 200 with its value. */
    VALUE,
    /** GET or DELETE of a key that does not exist: 404. */
    NOT_FOUND,
    /** Search: 200 with {@code isExists}. */
    SEARCHED,
    /** PUT of a new key: 200 "Added successfully". */
    ADDED,
    /** PUT of an existing key: 201 "Updated successfully". */
    UPDATED,
    /** DELETE: 200 "Key deleted". */
    DELETED,
    /** The payload stayed uncovered for the whole wait: 400 "Payload out of date". */
    OUT_OF_DATE,
    /** The payload cannot be honest (claims writes this node never made): 400 "Payload is not valid". */
    INVALID_PAYLOAD,
    /**
     * Storage failed while the write was being made durable: it may or may not have been made
     * (an indefinite error, in Jepsen's terms), and this node has stopped serving: 503.
     */
    INDEFINITE
  }

  /**
   * The answer to a client operation: {@code visible} for reads (the new version for writes),
   * {@code exists} (for writes: whether the key existed before), the payload to hand out, and
   * {@code siblings}: what the answer was decided from (for reads, the key's siblings; for writes,
   * those the new version replaced), for checkers and for inspection.
   */
  record Client(long id, Outcome outcome, Version visible, boolean exists, VectorClock payload, String detail,
      Siblings siblings) implements Reply {}

  /** A pull answered: stream {@code answer}, then close its delta. */
  record Pull(long id, PullAnswer answer) implements Reply {}

  /** A pull refused: the puller is not a member here; this node's view goes with the refusal. */
  record PullRefusal(long id, ViewState view) implements Reply {}

  /** The node cannot serve this request now (storage failed, overloaded, reconciling): 503 with a reason. */
  record Unavailable(long id, String reason) implements Reply {}

  /** A view push merged ({@code accepted}) or refused (the sender is not a member here). */
  record ViewPushed(long id, boolean accepted) implements Reply {}

  /**
   * A view change's outcome: {@code applied} false when it was not needed (404 of the
   * assignment); the members that acknowledged, those that did not, and what may be lost.
   */
  record ViewChange(long id, boolean applied, List<String> acknowledged, List<String> unreachable, String warning)
      implements Reply {}

  /**
   * A pull answer: the versions (to be streamed, then closed), the marks the puller may raise its
   * applied to once it has merged them all, this node's view, and this node's whole applied VC
   * (for the puller's information only: in an own-origin answer it exceeds the marks).
   */
  record PullAnswer(Store.Delta delta, VectorClock marks, ViewState view, VectorClock peerApplied) {}
}
