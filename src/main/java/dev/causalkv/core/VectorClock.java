package dev.causalkv.core;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;

/**
 * An immutable map from origin to sequence number naming a causally closed set of writes.
 *
 * <p>Absent origins read as 0 and zero entries are never stored, so two clocks naming the same
 * history are always {@code equals}. Every operation returns a new clock.
 *
 * <p>The entries are two parallel arrays sorted by origin, not a tree of boxed counters: a clock
 * has a handful of entries, is built once per write or message and compared many times, and the
 * tree's nodes and {@code Long}s were a visible share of a replicated write's allocation.
 */
public final class VectorClock {

  private static final String[] NO_ORIGINS = new String[0];
  private static final long[] NO_COUNTERS = new long[0];

  public static final VectorClock EMPTY = new VectorClock(NO_ORIGINS, NO_COUNTERS);

  /**
   * The highest counter a clock from outside (a payload, a peer's message) may carry: 2^53, what
   * any JSON reader holds exactly, and at a million writes a second, centuries of one origin's writes.
   */
  public static final long MAX_COUNTER = 1L << 53;

  /** Sorted ascending, no duplicates; never modified after construction. */
  private final String[] origins;
  /** {@code counters[i]} belongs to {@code origins[i]}; every one positive. */
  private final long[] counters;
  private int hash;
  private Map<String, Long> view;

  private VectorClock(String[] origins, long[] counters) {
    this.origins = origins;
    this.counters = counters;
  }

  /** Builds a clock from a map, rejecting negative counters and dropping zeros. */
  public static VectorClock of(Map<String, Long> map) {
    if (map.isEmpty()) return EMPTY;
    String[] os = new String[map.size()];
    long[] cs = new long[map.size()];
    int n = 0;
    for (Map.Entry<String, Long> e : map.entrySet()) {
      long v = Objects.requireNonNull(e.getValue(), "counter");
      if (v < 0) throw new IllegalArgumentException("negative counter for " + e.getKey());
      if (v > 0) {
        os[n] = Objects.requireNonNull(e.getKey(), "origin");
        cs[n] = v;
        n++;
      }
    }
    boolean sorted = map instanceof SortedMap<?, ?> s && s.comparator() == null;
    return build(os, cs, n, sorted);
  }

  /** Collects entries in any order, then {@link #build()}s a clock; for decoders. */
  public static final class Builder {
    private String[] os = new String[4];
    private long[] cs = new long[4];
    private int n;

    /**
     * Adds one entry; a later entry for the same origin replaces an earlier one, as a map's put
     * would. Rejects a negative counter; a zero one is dropped.
     */
    public Builder put(String origin, long counter) {
      Objects.requireNonNull(origin, "origin");
      if (counter < 0) throw new IllegalArgumentException("negative counter for " + origin);
      if (n == os.length) {
        os = Arrays.copyOf(os, n * 2);
        cs = Arrays.copyOf(cs, n * 2);
      }
      os[n] = origin;
      cs[n] = counter;
      n++;
      return this;
    }

    public int size() {
      return n;
    }

    public VectorClock build() {
      return VectorClock.build(Arrays.copyOf(os, n), Arrays.copyOf(cs, n), n, false);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * A clock of the first {@code n} pairs: sorted here unless the caller says so or they already
   * ascend (as a canonical encoding's do), duplicates last-wins, zeros dropped.
   */
  private static VectorClock build(String[] os, long[] cs, int n, boolean sorted) {
    if (!sorted && n > 1 && !ascending(os, n)) {
      Integer[] idx = new Integer[n];
      for (int i = 0; i < n; i++) idx[i] = i;
      // Stable, so equal origins keep their insertion order and the last one can win below.
      Arrays.sort(idx, (a, b) -> os[a].compareTo(os[b]));
      String[] so = new String[n];
      long[] sc = new long[n];
      for (int i = 0; i < n; i++) {
        so[i] = os[idx[i]];
        sc[i] = cs[idx[i]];
      }
      int m = 0;
      for (int i = 0; i < n; i++) {
        if (m > 0 && so[m - 1].equals(so[i])) m--; // a later duplicate replaces the earlier one
        so[m] = so[i];
        sc[m] = sc[i];
        m++;
      }
      return compact(so, sc, m);
    }
    return compact(os, cs, n);
  }

  /** True when the first {@code n} origins strictly ascend: already sorted, no duplicates. */
  private static boolean ascending(String[] os, int n) {
    for (int i = 1; i < n; i++) {
      if (os[i - 1].compareTo(os[i]) >= 0) return false;
    }
    return true;
  }

  /** Drops zero counters and trims the arrays to size. */
  private static VectorClock compact(String[] os, long[] cs, int n) {
    int m = 0;
    for (int i = 0; i < n; i++) {
      if (cs[i] > 0) {
        os[m] = os[i];
        cs[m] = cs[i];
        m++;
      }
    }
    if (m == 0) return EMPTY;
    return new VectorClock(m == os.length ? os : Arrays.copyOf(os, m), m == cs.length ? cs : Arrays.copyOf(cs, m));
  }

  private int indexOf(String origin) {
    // Clocks hold a few entries: a linear scan on equals beats ordering comparisons there.
    if (origins.length <= 8) {
      for (int i = 0; i < origins.length; i++) {
        if (origins[i].equals(origin)) return i;
      }
      return -1;
    }
    int i = Arrays.binarySearch(origins, origin);
    return i >= 0 ? i : -1;
  }

  public long get(String origin) {
    int i = indexOf(origin);
    return i < 0 ? 0 : counters[i];
  }

  public boolean isEmpty() {
    return origins.length == 0;
  }

  public int size() {
    return origins.length;
  }

  /** The origin of the {@code i}-th entry in origin order ({@code 0 <= i < size()}); for encoders that should not allocate. */
  public String originAt(int i) {
    return origins[i];
  }

  /** The counter of the {@code i}-th entry in origin order. */
  public long counterAt(int i) {
    return counters[i];
  }

  /** A read-only view of the non-zero entries, iterated in origin order. */
  public Map<String, Long> asMap() {
    Map<String, Long> v = view;
    if (v == null) view = v = new View();
    return v;
  }

  /** This clock with {@code origin} raised to at least {@code seq}. */
  public VectorClock with(String origin, long seq) {
    int i = indexOf(origin);
    if (i >= 0) {
      if (counters[i] >= seq) return this;
      long[] cs = counters.clone();
      cs[i] = seq;
      return new VectorClock(origins, cs);
    }
    if (seq <= 0) return this;
    int at = -Arrays.binarySearch(origins, origin) - 1;
    String[] os = new String[origins.length + 1];
    long[] cs = new long[origins.length + 1];
    System.arraycopy(origins, 0, os, 0, at);
    System.arraycopy(counters, 0, cs, 0, at);
    os[at] = origin;
    cs[at] = seq;
    System.arraycopy(origins, at, os, at + 1, origins.length - at);
    System.arraycopy(counters, at, cs, at + 1, origins.length - at);
    return new VectorClock(os, cs);
  }

  /** This clock with {@code dot}'s origin raised to include the dot. */
  public VectorClock with(Dot dot) {
    return with(dot.origin(), dot.seq());
  }

  /** The least upper bound: pointwise maximum. Commutative, associative and idempotent. */
  public VectorClock merge(VectorClock other) {
    if (other.origins.length == 0 || other == this) return this;
    if (origins.length == 0) return other;
    if (dominatesOrEquals(other)) return this;
    if (other.dominatesOrEquals(this)) return other;
    String[] a = origins, b = other.origins;
    String[] os = new String[a.length + b.length];
    long[] cs = new long[a.length + b.length];
    int i = 0, j = 0, n = 0;
    while (i < a.length && j < b.length) {
      int c = a[i].compareTo(b[j]);
      if (c == 0) {
        os[n] = a[i];
        cs[n++] = Math.max(counters[i++], other.counters[j++]);
      } else if (c < 0) {
        os[n] = a[i];
        cs[n++] = counters[i++];
      } else {
        os[n] = b[j];
        cs[n++] = other.counters[j++];
      }
    }
    while (i < a.length) {
      os[n] = a[i];
      cs[n++] = counters[i++];
    }
    while (j < b.length) {
      os[n] = b[j];
      cs[n++] = other.counters[j++];
    }
    return new VectorClock(n == os.length ? os : Arrays.copyOf(os, n), n == cs.length ? cs : Arrays.copyOf(cs, n));
  }

  /** True when this clock's history includes the write named by {@code dot}. */
  public boolean covers(Dot dot) {
    return get(dot.origin()) >= dot.seq();
  }

  /** True when every entry of {@code other} is at most this clock's entry. */
  public boolean dominatesOrEquals(VectorClock other) {
    String[] a = origins, b = other.origins;
    if (b.length > a.length) return false; // every entry of other is positive, so each needs one here
    int i = 0;
    for (int j = 0; j < b.length; j++) {
      if (i < a.length && a[i] == b[j]) { // the same origin string, shared between clocks, is common
        if (counters[i++] < other.counters[j]) return false;
        continue;
      }
      int c = -1;
      while (i < a.length && (c = a[i].compareTo(b[j])) < 0) i++;
      if (i == a.length || c != 0 || counters[i] < other.counters[j]) return false;
      i++;
    }
    return true;
  }

  public Order compare(VectorClock other) {
    boolean geq = dominatesOrEquals(other);
    boolean leq = other.dominatesOrEquals(this);
    if (geq && leq) return Order.SAME;
    if (geq) return Order.AFTER;
    if (leq) return Order.BEFORE;
    return Order.CONCURRENT;
  }

  @Override
  public boolean equals(Object o) {
    if (o == this) return true;
    return o instanceof VectorClock other
        && Arrays.equals(counters, other.counters)
        && Arrays.equals(origins, other.origins);
  }

  @Override
  public int hashCode() {
    int h = hash;
    if (h == 0) {
      // A map's hash (sum over entries of key hash ^ value hash), as the tree this replaced had.
      for (int i = 0; i < origins.length; i++) h += origins[i].hashCode() ^ Long.hashCode(counters[i]);
      hash = h;
    }
    return h;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < origins.length; i++) {
      if (i > 0) sb.append(", ");
      sb.append(origins[i]).append('=').append(counters[i]);
    }
    return sb.append('}').toString();
  }

  /** The read-only map {@link #asMap()} hands out. */
  private final class View extends AbstractMap<String, Long> {
    @Override
    public int size() {
      return origins.length;
    }

    @Override
    public boolean containsKey(Object key) {
      return key instanceof String s && indexOf(s) >= 0;
    }

    @Override
    public Long get(Object key) {
      if (!(key instanceof String s)) return null;
      int i = indexOf(s);
      return i < 0 ? null : counters[i];
    }

    @Override
    public Set<Map.Entry<String, Long>> entrySet() {
      return new AbstractSet<>() {
        @Override
        public int size() {
          return origins.length;
        }

        @Override
        public Iterator<Map.Entry<String, Long>> iterator() {
          return new Iterator<>() {
            private int i;

            @Override
            public boolean hasNext() {
              return i < origins.length;
            }

            @Override
            public Map.Entry<String, Long> next() {
              if (i >= origins.length) throw new NoSuchElementException();
              Map.Entry<String, Long> e = new AbstractMap.SimpleImmutableEntry<>(origins[i], counters[i]);
              i++;
              return e;
            }
          };
        }
      };
    }
  }
}
