package dev.causalkv.core;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * An immutable map from origin to sequence number naming a causally closed set of writes.
 *
 * <p>Absent origins read as 0 and zero entries are never stored, so two clocks naming the same
 * history are always {@code equals}. Every operation returns a new clock.
 */
public final class VectorClock {

  public static final VectorClock EMPTY = new VectorClock(new TreeMap<>());

  /**
   * The highest counter a clock from outside (a payload, a peer's message) may carry: 2^53, what
   * any JSON reader holds exactly, and at a million writes a second, centuries of one origin's writes.
   */
  public static final long MAX_COUNTER = 1L << 53;

  private final TreeMap<String, Long> entries;
  private int hash;

  private VectorClock(TreeMap<String, Long> entries) {
    this.entries = entries;
  }

  /** Builds a clock from a map, rejecting negative counters and dropping zeros. */
  public static VectorClock of(Map<String, Long> map) {
    TreeMap<String, Long> copy = new TreeMap<>();
    for (Map.Entry<String, Long> e : map.entrySet()) {
      long v = Objects.requireNonNull(e.getValue(), "counter");
      if (v < 0) throw new IllegalArgumentException("negative counter for " + e.getKey());
      if (v > 0) copy.put(Objects.requireNonNull(e.getKey(), "origin"), v);
    }
    return copy.isEmpty() ? EMPTY : new VectorClock(copy);
  }

  public long get(String origin) {
    Long v = entries.get(origin);
    return v == null ? 0 : v;
  }

  public boolean isEmpty() {
    return entries.isEmpty();
  }

  public int size() {
    return entries.size();
  }

  /** A read-only sorted view of the non-zero entries. */
  public Map<String, Long> asMap() {
    return Collections.unmodifiableMap(entries);
  }

  /** This clock with {@code origin} raised to at least {@code seq}. */
  public VectorClock with(String origin, long seq) {
    if (get(origin) >= seq) return this;
    TreeMap<String, Long> copy = new TreeMap<>(entries);
    copy.put(origin, seq);
    return new VectorClock(copy);
  }

  /** This clock with {@code dot}'s origin raised to include the dot. */
  public VectorClock with(Dot dot) {
    return with(dot.origin(), dot.seq());
  }

  /** The least upper bound: pointwise maximum. Commutative, associative and idempotent. */
  public VectorClock merge(VectorClock other) {
    if (other.entries.isEmpty() || other == this) return this;
    if (entries.isEmpty()) return other;
    TreeMap<String, Long> copy = null;
    for (Map.Entry<String, Long> e : other.entries.entrySet()) {
      if (get(e.getKey()) < e.getValue()) {
        if (copy == null) copy = new TreeMap<>(entries);
        copy.put(e.getKey(), e.getValue());
      }
    }
    return copy == null ? this : new VectorClock(copy);
  }

  /** True when this clock's history includes the write named by {@code dot}. */
  public boolean covers(Dot dot) {
    return get(dot.origin()) >= dot.seq();
  }

  /** True when every entry of {@code other} is at most this clock's entry. */
  public boolean dominatesOrEquals(VectorClock other) {
    for (Map.Entry<String, Long> e : other.entries.entrySet()) {
      if (get(e.getKey()) < e.getValue()) return false;
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
    return o instanceof VectorClock other && entries.equals(other.entries);
  }

  @Override
  public int hashCode() {
    int h = hash;
    if (h == 0) hash = h = entries.hashCode();
    return h;
  }

  @Override
  public String toString() {
    return entries.toString();
  }
}
