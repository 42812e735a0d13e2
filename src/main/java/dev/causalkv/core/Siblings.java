package dev.causalkv.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * The multi-value register of one key: the versions of the key that no other held version
 * dominates (docs/design.md §3).
 *
 * <p>{@link #merge} is a join: commutative, associative and idempotent, so replicas that receive
 * the same versions in any order, any number of times, hold equal siblings. Versions are kept
 * sorted by dot so that equal sets are equal lists.
 */
public final class Siblings {

  public static final Siblings EMPTY = new Siblings(List.of());

  private final List<Version> versions;

  private Siblings(List<Version> versions) {
    this.versions = versions;
  }

  /** Builds siblings from versions of one key, keeping only those no other one dominates. */
  public static Siblings of(List<Version> versions) {
    Siblings s = EMPTY;
    for (Version v : versions) s = s.merge(v);
    return s;
  }

  public List<Version> versions() {
    return versions;
  }

  public boolean isEmpty() {
    return versions.isEmpty();
  }

  /**
   * Adds {@code incoming} unless a held version dominates it or has the same dot, and drops the
   * held versions it dominates. Returns this instance when nothing changes.
   */
  public Siblings merge(Version incoming) {
    for (Version v : versions) {
      if (incoming.isDominatedBy(v) || v.dot().equals(incoming.dot())) return this;
      if (!v.key().equals(incoming.key())) {
        throw new IllegalArgumentException("merging " + incoming.key() + " into " + v.key());
      }
    }
    List<Version> next = new ArrayList<>(versions.size() + 1);
    for (Version v : versions) {
      if (!v.isDominatedBy(incoming)) next.add(v);
    }
    next.add(incoming);
    next.sort(Comparator.comparing(Version::dot));
    return new Siblings(Collections.unmodifiableList(next));
  }

  /** Merges every version of {@code other}. */
  public Siblings merge(Siblings other) {
    Siblings s = this;
    for (Version v : other.versions) s = s.merge(v);
    return s;
  }

  /** The sibling the assignment's conflict rule shows, or null when there is none. */
  public Version visible() {
    Version best = null;
    for (Version v : versions) {
      if (best == null || Version.VISIBILITY.compare(v, best) > 0) best = v;
    }
    return best;
  }

  /** True when the visible version holds a value (not a tombstone). */
  public boolean exists() {
    Version v = visible();
    return v != null && !v.isTombstone();
  }

  /** The merge of every sibling's vc: the history of this key this replica reflects. */
  public VectorClock vc() {
    VectorClock vc = VectorClock.EMPTY;
    for (Version v : versions) vc = vc.merge(v.vc());
    return vc;
  }

  /** True when some sibling has this dot. */
  public boolean contains(Dot dot) {
    for (Version v : versions) if (v.dot().equals(dot)) return true;
    return false;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Siblings other && versions.equals(other.versions);
  }

  @Override
  public int hashCode() {
    return Objects.hash(versions);
  }

  @Override
  public String toString() {
    return versions.toString();
  }
}
