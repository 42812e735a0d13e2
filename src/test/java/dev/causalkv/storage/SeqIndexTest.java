package dev.causalkv.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class SeqIndexTest {

  /** Runs random operations on the index and on a tree, checking every answer against the tree's. */
  private static void againstTree(long seed, int ops, int outOfOrderPercent, int removePercent) {
    Random r = new Random(seed);
    SeqIndex idx = new SeqIndex();
    TreeMap<Long, String> model = new TreeMap<>();
    long next = 1;
    for (int op = 0; op < ops; op++) {
      int p = r.nextInt(100);
      if (p < removePercent && !model.isEmpty()) {
        // Remove a live seq (most of the time) or one never held.
        Long held = model.ceilingKey(1 + (long) r.nextInt((int) next));
        long seq = r.nextInt(10) == 0 || held == null ? next + r.nextInt(5) : held;
        idx.remove(seq);
        model.remove(seq);
      } else if (p < removePercent + outOfOrderPercent && next > 2) {
        long seq = 1 + r.nextInt((int) next - 1); // below the top: a late seq, or a re-put of a held one
        String key = "k" + r.nextInt(50);
        idx.put(seq, key);
        model.put(seq, key);
      } else {
        next += 1 + r.nextInt(3);
        String key = "k" + r.nextInt(50);
        idx.put(next, key);
        model.put(next, key);
      }
      assertEquals(model.isEmpty() ? 0 : model.lastKey(), idx.last(), "last after op " + op);
      assertEquals(model.isEmpty(), idx.isEmpty(), "isEmpty after op " + op);
      assertTrue(idx.slots() <= 2 * model.size() + 64 + model.size() / 8 + 34, "slots bounded after op " + op);
      if (op % 97 == 0) {
        long since = r.nextInt((int) next + 1);
        TreeMap<Long, String> seen = new TreeMap<>();
        idx.forEachAfter(since, (key, seq) -> assertEquals(null, seen.put(seq, key), "seq visited twice: " + seq));
        assertEquals(model.tailMap(since, false), seen, "tail after " + since + " at op " + op);
      }
    }
  }

  @Test
  void appendsAndRemovalsInSeqOrderAgreeWithATree() {
    for (long seed = 1; seed <= 20; seed++) againstTree(seed, 5_000, 0, 45);
  }

  @Test
  void seqsArrivingBelowTheTopAgreeWithATree() {
    for (long seed = 1; seed <= 20; seed++) againstTree(seed, 5_000, 30, 30);
  }

  @Test
  void aDeltaInKeyOrderIsFoldedInWithoutLosingOrRepeatingASeq() {
    // A pull answer lists one origin's versions in key order: seqs arrive shuffled.
    SeqIndex idx = new SeqIndex();
    TreeMap<Long, String> model = new TreeMap<>();
    Random r = new Random(7);
    long[] shuffled = new long[20_000];
    for (int i = 0; i < shuffled.length; i++) shuffled[i] = i + 1;
    for (int i = shuffled.length - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      long t = shuffled[i];
      shuffled[i] = shuffled[j];
      shuffled[j] = t;
    }
    for (long s : shuffled) {
      idx.put(s, "k" + s);
      model.put(s, "k" + s);
    }
    TreeMap<Long, String> seen = new TreeMap<>();
    idx.forEachAfter(0, (key, seq) -> assertEquals(null, seen.put(seq, key)));
    assertEquals(model, seen);
    assertEquals(20_000, idx.last());
    for (Map.Entry<Long, String> e : model.entrySet()) {
      if (e.getKey() % 2 == 0) idx.remove(e.getKey());
    }
    seen.clear();
    idx.forEachAfter(10_000, (key, seq) -> seen.put(seq, key));
    assertEquals(5_000, seen.size());
    assertTrue(seen.keySet().stream().allMatch(s -> s % 2 == 1 && s > 10_000));
    assertEquals(19_999, idx.last());
  }
}
