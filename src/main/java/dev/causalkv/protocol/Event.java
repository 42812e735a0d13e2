package dev.causalkv.protocol;

import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.core.ViewState;
import java.util.List;

/**
 * Everything that can happen to a node, as {@link NodeCore#step} takes it: a request arrives, a
 * pull this node issued progresses or fails, a push is acknowledged, time passes, storage fails.
 * Requests carry an id that their {@link Reply} names.
 */
public sealed interface Event {

  /** The four client operations of the key-value API. */
  enum Op { GET, SEARCH, PUT, DELETE }

  /** A client key-value operation; {@code value} only for PUT; {@code wallMillis} stamps a write. */
  record ClientOp(long id, Op op, String key, String value, VectorClock payload, long wallMillis) implements Event {}

  /** A peer pulls from this node. */
  record PullArrived(long id, PullRequest request) implements Event {}

  /** A peer pushes a view to this node. */
  record ViewPushArrived(long id, String from, ViewState view) implements Event {}

  /**
   * {@code PUT /view} ({@code add}) or {@code DELETE /view} of {@code member}. {@code mustDrain}:
   * the member asked to leave itself and handed the change over; if it cannot be drained it is not
   * removed (it is alive, and its writes are not to be given up).
   */
  record ViewChangeRequested(long id, String member, boolean add, boolean mustDrain) implements Event {
    public ViewChangeRequested(long id, String member, boolean add) {
      this(id, member, add, false);
    }
  }

  /**
   * A pull this node issued started to be answered. The answer's head carries the peer's view and
   * the marks the answer will end with: those may be raised only once the whole answer is merged.
   */
  record AnswerBegan(long pullId, ViewState view, VectorClock marks) implements Event {}

  /** Some versions of an answer, in any order and any grouping. */
  record AnswerVersions(long pullId, List<Version> versions) implements Event {}

  /** The end of an answer: the marks to raise applied to, the peer's whole applied, and how many versions it sent. */
  record AnswerEnded(long pullId, VectorClock marks, VectorClock peerApplied, long count) implements Event {}

  /** A pull broke off, timed out or could not be sent. */
  record PullFailed(long pullId) implements Event {}

  /** A peer refused a pull (not a member there), with its view. */
  record PullRefused(long pullId, ViewState view) implements Event {}

  /** A view push this node sent was acknowledged ({@code accepted}) or failed. */
  record PushAnswered(long pushId, boolean accepted) implements Event {}

  /** A view change this node forwarded to a member was answered (null: the call failed). */
  record ForwardAnswered(long callId, Reply.ViewChange result) implements Event {}

  /** Time passed: run what is due (deadlines, backoffs, garbage collection). */
  record Tick() implements Event {}

  /**
   * Persisting a step failed, or could not be made durable: the node stops; {@code lost} are the
   * replies that must not go out. {@code mayBeDurable}: the batch reached the engine (the fsync
   * failed), so its writes may or may not survive; false when the write itself failed.
   */
  record StorageFailed(String reason, List<Reply> lost, boolean mayBeDurable) implements Event {}

  /** The node is stopping: every parked request gets its definite answer now. */
  record Shutdown() implements Event {}
}
