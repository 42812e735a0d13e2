package dev.causalkv.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Seeded property tests of the vector clock: the join laws and the four-valued comparison. */
class VectorClockTest {

  static final int RUNS = 2000;
  static final String[] ORIGINS = {"a", "b", "c", "d"};

  static VectorClock random(SplittableRandom r) {
    Map<String, Long> m = new HashMap<>();
    for (String o : ORIGINS) if (r.nextInt(3) > 0) m.put(o, (long) r.nextInt(4));
    return VectorClock.of(m);
  }

  /** Brute-force reference: pointwise comparison over every origin. */
  static boolean leq(VectorClock x, VectorClock y) {
    for (String o : ORIGINS) if (x.get(o) > y.get(o)) return false;
    return true;
  }

  @Test
  void mergeIsCommutativeAssociativeIdempotentAndTheLeastUpperBound() {
    SplittableRandom r = new SplittableRandom(1);
    for (int i = 0; i < RUNS; i++) {
      VectorClock a = random(r), b = random(r), c = random(r);
      String ctx = "a=" + a + " b=" + b + " c=" + c;
      assertEquals(a.merge(b), b.merge(a), ctx);
      assertEquals(a.merge(b).merge(c), a.merge(b.merge(c)), ctx);
      assertEquals(a, a.merge(a), ctx);
      VectorClock m = a.merge(b);
      assertTrue(m.dominatesOrEquals(a) && m.dominatesOrEquals(b), ctx);
      for (String o : ORIGINS) assertEquals(Math.max(a.get(o), b.get(o)), m.get(o), ctx);
      // least: any upper bound of a and b is >= the merge
      if (c.dominatesOrEquals(a) && c.dominatesOrEquals(b)) assertTrue(c.dominatesOrEquals(m), ctx);
      assertEquals(m.hashCode(), b.merge(a).hashCode(), ctx);
    }
  }

  @Test
  void compareIsFourValuedAndAntisymmetric() {
    SplittableRandom r = new SplittableRandom(2);
    int[] seen = new int[Order.values().length];
    for (int i = 0; i < RUNS; i++) {
      VectorClock a = random(r), b = random(r);
      Order expected = leq(a, b) && leq(b, a) ? Order.SAME
          : leq(b, a) ? Order.AFTER
          : leq(a, b) ? Order.BEFORE
          : Order.CONCURRENT;
      Order got = a.compare(b);
      assertEquals(expected, got, a + " vs " + b);
      seen[got.ordinal()]++;
      Order back = b.compare(a);
      switch (got) {
        case SAME -> { assertEquals(Order.SAME, back); assertEquals(a, b); }
        case AFTER -> assertEquals(Order.BEFORE, back);
        case BEFORE -> assertEquals(Order.AFTER, back);
        case CONCURRENT -> assertEquals(Order.CONCURRENT, back);
      }
      assertEquals(Order.SAME, a.compare(a));
      Order withMerge = a.merge(b).compare(a);
      assertTrue(withMerge == Order.AFTER || withMerge == Order.SAME);
    }
    for (Order o : Order.values()) assertTrue(seen[o.ordinal()] > 0, "generator never produced " + o);
  }

  @Test
  void zeroEntriesAreNotStoredSoEqualHistoriesAreEqual() {
    VectorClock a = VectorClock.of(Map.of("a", 0L, "b", 2L));
    VectorClock b = VectorClock.of(Map.of("b", 2L));
    assertEquals(a, b);
    assertEquals(a.hashCode(), b.hashCode());
    assertEquals(VectorClock.EMPTY, VectorClock.of(Map.of("x", 0L)));
    assertEquals(Order.SAME, VectorClock.EMPTY.compare(VectorClock.of(Map.of())));
  }

  @Test
  void clocksAreImmutable() {
    VectorClock a = VectorClock.of(Map.of("a", 1L));
    VectorClock b = a.with("a", 3);
    assertNotSame(a, b);
    assertEquals(1, a.get("a"));
    assertEquals(3, b.get("a"));
    assertEquals(a, a.with("a", 1)); // raising to a lower value changes nothing
    VectorClock m = a.merge(VectorClock.of(Map.of("b", 2L)));
    assertEquals(1, a.size());
    assertEquals(2, m.size());
    assertThrows(UnsupportedOperationException.class, () -> m.asMap().put("z", 1L));
    assertThrows(IllegalArgumentException.class, () -> VectorClock.of(Map.of("a", -1L)));
  }

  @Test
  void coversNamesExactlyTheDotsAtOrBelowTheEntry() {
    VectorClock a = VectorClock.of(Map.of("a", 3L));
    assertTrue(a.covers(new Dot("a", 1)));
    assertTrue(a.covers(new Dot("a", 3)));
    assertFalse(a.covers(new Dot("a", 4)));
    assertFalse(a.covers(new Dot("b", 1)));
  }

  /**
   * Against a sorted map as the reference model, over clocks of up to 20 origins (past the size
   * where lookups switch from a scan to a binary search) built every way a clock is built.
   */
  @Test
  void everyOperationAgreesWithASortedMapModel() {
    SplittableRandom r = new SplittableRandom(3);
    for (int run = 0; run < RUNS; run++) {
      int width = 1 + r.nextInt(20);
      TreeMap<String, Long> ma = model(r, width), mb = model(r, width);
      VectorClock a = VectorClock.of(ma), b = built(r, mb);
      String ctx = "a=" + ma + " b=" + mb;
      assertEquals(ma, a.asMap(), ctx);
      assertEquals(mb, b.asMap(), ctx);
      assertEquals(new ArrayList<>(ma.keySet()), new ArrayList<>(a.asMap().keySet()), "origin order " + ctx);
      assertEquals(ma.hashCode(), a.hashCode(), ctx);
      TreeMap<String, Long> join = new TreeMap<>(ma);
      mb.forEach((k, v) -> join.merge(k, v, Math::max));
      assertEquals(join, a.merge(b).asMap(), ctx);
      assertEquals(VectorClock.of(join), a.merge(b), ctx);
      boolean geq = mb.entrySet().stream().allMatch(e -> ma.getOrDefault(e.getKey(), 0L) >= e.getValue());
      assertEquals(geq, a.dominatesOrEquals(b), ctx);
      String o = "o" + r.nextInt(width + 2);
      long seq = 1 + r.nextInt(6);
      TreeMap<String, Long> raised = new TreeMap<>(ma);
      raised.merge(o, seq, Math::max);
      assertEquals(raised, a.with(o, seq).asMap(), ctx + " with " + o + "=" + seq);
      assertEquals(ma.getOrDefault(o, 0L), a.get(o), ctx);
      assertEquals(ma.getOrDefault(o, 0L) >= seq, a.covers(new Dot(o, seq)), ctx);
      for (int i = 0; i < a.size(); i++) assertEquals(ma.get(a.originAt(i)), a.counterAt(i), ctx);
    }
  }

  @Test
  void aBuilderTakesAnyOrderKeepsTheLastOfARepeatedOriginAndDropsZeros() {
    VectorClock c = VectorClock.builder().put("c", 1).put("a", 5).put("b", 0).put("a", 2).put("d", 3).put("d", 0).build();
    assertEquals(VectorClock.of(Map.of("a", 2L, "c", 1L)), c);
    assertEquals(List.of("a", "c"), new ArrayList<>(c.asMap().keySet()));
    assertEquals(VectorClock.EMPTY, VectorClock.builder().build());
    assertThrows(IllegalArgumentException.class, () -> VectorClock.builder().put("a", -1));
  }

  private static TreeMap<String, Long> model(SplittableRandom r, int width) {
    TreeMap<String, Long> m = new TreeMap<>();
    for (int i = 0; i < width; i++) if (r.nextInt(3) > 0) m.put("o" + i, 1L + r.nextInt(5));
    return m;
  }

  /** The same clock by one of the three ways decoders and callers build one. */
  private static VectorClock built(SplittableRandom r, TreeMap<String, Long> m) {
    switch (r.nextInt(3)) {
      case 0:
        return VectorClock.of(new HashMap<>(m));
      case 1: {
        List<Map.Entry<String, Long>> es = new ArrayList<>(m.entrySet());
        java.util.Collections.shuffle(es, new java.util.Random(r.nextLong()));
        VectorClock.Builder b = VectorClock.builder();
        for (Map.Entry<String, Long> e : es) b.put(e.getKey(), e.getValue());
        return b.build();
      }
      default: {
        VectorClock c = VectorClock.EMPTY;
        for (Map.Entry<String, Long> e : m.descendingMap().entrySet()) c = c.with(e.getKey(), e.getValue());
        return c;
      }
    }
  }
}
