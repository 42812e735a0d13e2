package dev.causalkv.protocol;

import dev.causalkv.core.VectorClock;
import dev.causalkv.core.ViewState;

/**
 * What the puller knows of one peer at the end of a step, for operators (a read-only snapshot:
 * {@link NodeCore#peers}): the outcome of the last pull, the mode of pulling, when a pull last
 * completed (on the core's clock), failures, and what the peer said it holds. The driver derives
 * logs and metrics from the changes between snapshots; nothing in the protocol reads it.
 *
 * @param link the outcome of the last pull that ended
 * @param mode the pull in flight, or the next one when none is
 * @param caughtUp a complete (every-origin) pull from this peer has succeeded since start-up
 * @param lastCompletedMillis when a pull from it last completed, on the core's clock; -1: never
 * @param failures failed pulls in a row (0 after a completed one)
 * @param completed pulls that completed, every mode, since start-up
 * @param failed pulls that failed (broke off, timed out, could not be sent, were incomplete)
 * @param refused pulls the peer refused (it does not list this node)
 * @param peerApplied the peer's whole applied clock as its last completed answer reported it
 * @param peerView the peer's view as the head of its last answer carried it; null until one began
 */
public record PeerStatus(
    String peer,
    Link link,
    Mode mode,
    boolean caughtUp,
    long lastCompletedMillis,
    int failures,
    long completed,
    long failed,
    long refused,
    VectorClock peerApplied,
    ViewState peerView) {

  /** The outcome of the last pull from the peer. */
  public enum Link {
    /** No pull has ended yet. */
    UNKNOWN,
    /** The last pull completed. */
    UP,
    /** The last pull failed. */
    DOWN,
    /** The peer refused the last pull: it answers, but does not list this node. */
    REFUSED
  }

  /** How this node pulls from the peer (docs/design.md §5). */
  public enum Mode {
    /** A complete pull answered at once: catching up, or forwarding writes of an origin this node lags on. */
    CATCH_UP,
    /** Complete pulls, held: some other peer cannot be reached, so this one forwards its writes. */
    FORWARD,
    /** Pulls of the peer's own writes only: the steady state. */
    OWN
  }

  /** True when the peer answers (completed or refused the last pull). */
  public boolean reachable() {
    return link == Link.UP || link == Link.REFUSED;
  }
}
