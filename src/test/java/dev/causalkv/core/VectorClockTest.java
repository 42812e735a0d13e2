package dev.causalkv.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
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
}
