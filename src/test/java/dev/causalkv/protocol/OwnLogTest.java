package dev.causalkv.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class OwnLogTest {

  @Test
  void keysAfterAreEachKeyOnceInTheOrderOfItsFirstWriteThere() {
    OwnLog log = new OwnLog(10);
    String[] keys = {"a", "b", "a", "c", "b", "d"};
    for (int i = 0; i < keys.length; i++) log.add(11 + i, keys[i]);
    assertEquals(List.of("a", "b", "c", "d"), log.keysAfter(10));
    assertEquals(List.of("a", "c", "b", "d"), log.keysAfter(12));
    assertEquals(List.of(), log.keysAfter(16));
    assertTrue(log.covers(10));
    assertFalse(log.covers(9));
  }

  @Test
  void agreesWithATreeAcrossWrapsTruncationsAndTheBound() {
    Random r = new Random(3);
    OwnLog log = new OwnLog(0);
    TreeMap<Long, String> model = new TreeMap<>();
    long floor = 0;
    long seq = 0;
    for (int op = 0; op < 400_000; op++) {
      int p = r.nextInt(1000);
      if (p < 3) {
        long upTo = floor + r.nextInt((int) (seq - floor) + 2); // sometimes past every entry
        log.truncate(upTo);
        if (upTo > floor) {
          model.headMap(upTo, true).clear();
          floor = upTo;
          seq = Math.max(seq, upTo);
        }
      } else {
        seq++;
        String key = "k" + r.nextInt(300);
        log.add(seq, key);
        model.put(seq, key);
        if (model.size() > OwnLog.MAX_ENTRIES) floor = model.pollFirstEntry().getKey();
      }
      assertEquals(floor, log.floor(), "floor at op " + op);
      assertEquals(model.size(), log.size(), "size at op " + op);
      if (op % 5_003 == 0) {
        long from = floor + r.nextInt((int) (seq - floor) + 1);
        assertEquals(new ArrayList<>(new LinkedHashSet<>(model.tailMap(from, false).values())), log.keysAfter(from), "keys after " + from);
      }
    }
  }

  @Test
  void aSkippedRangeOfSeqsStartsTheLogAgainAboveIt() {
    // The origin's seq was moved on past a pulled claim: the seqs in between were never issued.
    OwnLog log = new OwnLog(0);
    log.add(1, "a");
    log.add(2, "b");
    log.add(1_000_000_000L, "c");
    assertFalse(log.covers(2), "a puller from below the gap gets a complete answer");
    assertTrue(log.covers(999_999_999L));
    assertEquals(List.of("c"), log.keysAfter(999_999_999L));
    log.add(1_000_000_001L, "a");
    assertEquals(List.of("c", "a"), log.keysAfter(999_999_999L));
  }
}
