package dev.causalkv.core;

import java.util.Comparator;
import java.util.Objects;

/**
 * One write to one key: a value or a tombstone, named by its dot, with its causal history and the
 * wall-clock time (ms) of the node that first processed it.
 */
public record Version(String key, String value, Dot dot, VectorClock vc, long ts) {

  /**
   * The assignment's conflict rule among versions no other version dominates: the later timestamp
   * wins, ties broken by origin then seq so that every replica picks the same one.
   */
  public static final Comparator<Version> VISIBILITY =
      Comparator.comparingLong(Version::ts).thenComparing(Version::dot);

  public Version {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(dot, "dot");
    Objects.requireNonNull(vc, "vc");
    if (!vc.covers(dot)) throw new IllegalArgumentException("vc " + vc + " must include own dot " + dot);
  }

  public static Version tombstone(String key, Dot dot, VectorClock vc, long ts) {
    return new Version(key, null, dot, vc, ts);
  }

  public boolean isTombstone() {
    return value == null;
  }

  /** True when {@code other}'s history includes this write, so this version is obsolete. */
  public boolean isDominatedBy(Version other) {
    return other.vc.covers(dot);
  }
}
