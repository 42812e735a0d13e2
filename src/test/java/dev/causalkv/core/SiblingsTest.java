package dev.causalkv.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Seeded property tests of the multi-value register: merge is order-insensitive and idempotent,
 * keeps exactly the undominated versions, and shows the greatest (ts, origin, seq).
 */
class SiblingsTest {

  static final int RUNS = 1000;

  /**
   * A random causally closed history of writes to one key: each write is made at some origin and
   * depends on that origin's previous write plus a random subset of the writes made so far (with
   * their histories), like writes made under a client payload.
   */
  static List<Version> history(SplittableRandom r, int writes) {
    String[] origins = {"a#1", "b#1", "c#1"};
    List<Version> out = new ArrayList<>();
    Map<String, VectorClock> last = new HashMap<>();
    Map<String, Long> seq = new HashMap<>();
    for (int i = 0; i < writes; i++) {
      String o = origins[r.nextInt(origins.length)];
      VectorClock vc = last.getOrDefault(o, VectorClock.EMPTY);
      for (Version prior : out) if (r.nextInt(4) == 0) vc = vc.merge(prior.vc());
      long s = seq.merge(o, 1L, Long::sum);
      Dot dot = new Dot(o, s);
      vc = vc.with(dot);
      last.put(o, vc);
      long ts = r.nextInt(5); // few distinct stamps: ties must be broken by the dot
      out.add(r.nextInt(5) == 0 ? Version.tombstone("k", dot, vc, ts) : new Version("k", "v" + i, dot, vc, ts));
    }
    return out;
  }

  /** Brute-force reference: the versions no other version of the list dominates. */
  static List<Version> maximal(List<Version> vs) {
    List<Version> out = new ArrayList<>();
    for (Version v : vs) {
      boolean dominated = false;
      for (Version w : vs) if (w != v && !w.dot().equals(v.dot()) && v.isDominatedBy(w)) dominated = true;
      if (!dominated && out.stream().noneMatch(x -> x.dot().equals(v.dot()))) out.add(v);
    }
    out.sort((x, y) -> x.dot().compareTo(y.dot()));
    return out;
  }

  @Test
  void mergeIsOrderInsensitiveIdempotentAndKeepsExactlyTheUndominated() {
    SplittableRandom r = new SplittableRandom(7);
    for (int run = 0; run < RUNS; run++) {
      List<Version> h = history(r, 1 + r.nextInt(10));
      List<Version> input = new ArrayList<>(h);
      for (int i = 0; i < 3; i++) if (!h.isEmpty()) input.add(h.get(r.nextInt(h.size()))); // duplicates
      Siblings reference = Siblings.of(input);
      assertEquals(maximal(h), reference.versions(), "history " + h);
      for (int p = 0; p < 5; p++) {
        List<Version> shuffled = new ArrayList<>(input);
        Collections.shuffle(shuffled, new Random(r.nextLong()));
        assertEquals(reference, Siblings.of(shuffled), "order-insensitive, history " + h);
        // merging two halves in either order (associativity / commutativity of Siblings.merge)
        int cut = r.nextInt(shuffled.size() + 1);
        Siblings left = Siblings.of(shuffled.subList(0, cut));
        Siblings right = Siblings.of(shuffled.subList(cut, shuffled.size()));
        assertEquals(reference, left.merge(right));
        assertEquals(reference, right.merge(left));
      }
      assertEquals(reference, reference.merge(reference), "idempotent");
      for (Version v : h) assertSame(reference, reference.merge(v), "re-merging a known version changes nothing");
      // no sibling dominates another; every input is reflected (held or dominated)
      for (Version a : reference.versions()) {
        for (Version b : reference.versions()) if (a != b) assertFalse(a.isDominatedBy(b), a + " dominated by " + b);
      }
      for (Version v : h) assertTrue(reference.vc().covers(v.dot()), v + " lost from " + reference);
    }
  }

  @Test
  void visibleIsTheGreatestTimestampThenOriginThenSeq() {
    SplittableRandom r = new SplittableRandom(8);
    for (int run = 0; run < RUNS; run++) {
      Siblings s = Siblings.of(history(r, 1 + r.nextInt(10)));
      Version best = null;
      for (Version v : s.versions()) {
        if (best == null
            || v.ts() > best.ts()
            || (v.ts() == best.ts() && v.dot().origin().compareTo(best.dot().origin()) > 0)
            || (v.ts() == best.ts() && v.dot().origin().equals(best.dot().origin()) && v.dot().seq() > best.dot().seq())) {
          best = v;
        }
      }
      assertEquals(best, s.visible());
      assertEquals(best != null && !best.isTombstone(), s.exists());
    }
    assertNull(Siblings.EMPTY.visible());
    assertFalse(Siblings.EMPTY.exists());
  }

  @Test
  void dominanceBeatsTimestamp() {
    VectorClock a1 = VectorClock.of(Map.of("a", 1L));
    Version older = new Version("k", "old", new Dot("a", 1), a1, 1_000_000);
    // written later causally, but at a node whose clock is far behind
    Version newer = new Version("k", "new", new Dot("b", 1), a1.with("b", 1), 5);
    Siblings s = Siblings.of(List.of(older, newer));
    assertEquals(List.of(newer), s.versions());
    assertEquals("new", s.visible().value());
    assertEquals(s, Siblings.of(List.of(newer, older)));
  }

  @Test
  void concurrentVersionsAreKeptAndTheLaterTimestampShows() {
    Version x = new Version("k", "x", new Dot("a", 1), VectorClock.of(Map.of("a", 1L)), 10);
    Version y = new Version("k", "y", new Dot("b", 1), VectorClock.of(Map.of("b", 1L)), 20);
    Siblings s = Siblings.of(List.of(x, y));
    assertEquals(2, s.versions().size());
    assertEquals("y", s.visible().value());
    Version tieB = new Version("k", "tb", new Dot("b", 1), VectorClock.of(Map.of("b", 1L)), 10);
    assertEquals("tb", Siblings.of(List.of(tieB, x)).visible().value(), "equal ts: greater origin wins");
    Version tomb = Version.tombstone("k", new Dot("c", 1), VectorClock.of(Map.of("c", 1L)), 30);
    Siblings withTomb = s.merge(tomb);
    assertFalse(withTomb.exists(), "a concurrent later tombstone hides the key");
    assertEquals(3, withTomb.versions().size());
  }
}
