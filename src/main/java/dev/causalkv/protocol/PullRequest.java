package dev.causalkv.protocol;

import dev.causalkv.core.VectorClock;
import dev.causalkv.core.ViewState;
import java.util.Objects;

/**
 * One pull, as it travels: who asks, what it has applied ({@code since}, also its stability
 * report), what it has seen, its view, what it asks for, and how long the peer may hold it.
 * {@code leaving} marks the drain of a node being removed: that node fences its writes.
 */
public record PullRequest(String from, VectorClock since, VectorClock seen, ViewState view, Mode mode, long waitMillis,
    boolean leaving) {

  /** What a pull asks for. */
  public enum Mode {
    /** The complete delta of every origin (docs/design.md §5). */
    ALL,
    /** Only the peer's own writes, answered with their keys' current siblings. */
    OWN,
    /** The complete delta, never held, for a view change; admitted from former members too. */
    DRAIN
  }

  public PullRequest {
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(since, "since");
    Objects.requireNonNull(seen, "seen");
    Objects.requireNonNull(view, "view");
    Objects.requireNonNull(mode, "mode");
    if (waitMillis < 0) throw new IllegalArgumentException("waitMillis < 0");
  }
}
