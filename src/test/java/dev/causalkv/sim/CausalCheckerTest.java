package dev.causalkv.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.causalkv.core.Dot;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The checker on hand-made histories: each rule fires on the anomaly it names, and not on a clean history. */
class CausalCheckerTest {

  static VectorClock vc(Object... kv) {
    Map<String, Long> m = new TreeMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], ((Number) kv[i + 1]).longValue());
    return VectorClock.of(m);
  }

  static Version v(String key, String value, String origin, long seq, VectorClock vc, long ts) {
    return new Version(key, value, new Dot(origin, seq), vc, ts);
  }

  static List<String> rules(CausalChecker c) {
    return c.anomalies().stream().map(CausalChecker.Anomaly::rule).toList();
  }

  @Test
  void cleanHistoryHasNoAnomaly() {
    CausalChecker c = new CausalChecker(2);
    Version x1 = v("x", "1", "A", 1, vc("A", 1), 10);
    c.write(0, 0, Siblings.EMPTY, x1);
    c.read(1, 1, "N", "x", Siblings.of(List.of(x1)), true, true, vc("A", 1));
    Version x2 = v("x", "2", "B", 1, vc("A", 1, "B", 1), 5); // follows x1 although its clock is behind
    c.write(2, 1, Siblings.of(List.of(x1)), x2);
    c.read(3, 0, "N", "x", Siblings.of(List.of(x2)), true, true, vc("A", 1, "B", 1));
    c.converged(Map.of("A", new TreeMap<>(Map.of("x", Siblings.of(List.of(x2)))), "B", new TreeMap<>(Map.of("x", Siblings.of(List.of(x2))))));
    assertEquals(List.of(), c.anomalies());
  }

  @Test
  void readYourWrites() {
    CausalChecker c = new CausalChecker(1);
    c.write(0, 0, Siblings.EMPTY, v("x", "1", "A", 1, vc("A", 1), 10));
    c.read(1, 0, "N", "x", Siblings.EMPTY, true, true, vc("A", 1)); // another node answers 404 as if covered
    assertEquals(List.of("read-your-writes"), rules(c));
  }

  @Test
  void monotonicReads() {
    CausalChecker c = new CausalChecker(2);
    Version x1 = v("x", "1", "A", 1, vc("A", 1), 10);
    Version x2 = v("x", "2", "A", 2, vc("A", 2), 11);
    c.write(0, 0, Siblings.EMPTY, x1);
    c.write(1, 0, Siblings.of(List.of(x1)), x2);
    c.read(2, 1, "N", "x", Siblings.of(List.of(x2)), true, true, vc("A", 2));
    c.read(3, 1, "N", "x", Siblings.of(List.of(x1)), true, true, vc("A", 2)); // goes back to x1
    assertEquals(List.of("stale sibling", "monotonic reads"), rules(c));
  }

  @Test
  void writesFollowReads() {
    CausalChecker c = new CausalChecker(3);
    Version x1 = v("x", "1", "A", 1, vc("A", 1), 10);
    c.write(0, 0, Siblings.EMPTY, x1);
    c.read(1, 1, "N", "x", Siblings.of(List.of(x1)), true, true, vc("A", 1));
    Version y1 = v("y", "1", "B", 1, vc("A", 1, "B", 1), 10);
    c.write(2, 1, Siblings.EMPTY, y1);
    c.read(3, 2, "N", "y", Siblings.of(List.of(y1)), true, true, vc("A", 1, "B", 1));
    c.read(4, 2, "N", "x", Siblings.EMPTY, true, true, vc("A", 1, "B", 1)); // sees y, not the x it depends on
    assertEquals(List.of("causal read (writes-follow-reads / transitive)"), rules(c));
  }

  @Test
  void aDeletedKeyComingBackIsCaught() {
    CausalChecker c = new CausalChecker(1);
    Version x1 = v("x", "1", "A", 1, vc("A", 1), 10);
    Version del = new Version("x", null, new Dot("A", 2), vc("A", 2), 11);
    c.write(0, 0, Siblings.EMPTY, x1);
    c.write(1, 0, Siblings.of(List.of(x1)), del);
    c.read(2, 0, "N", "x", Siblings.of(List.of(x1)), true, true, vc("A", 2));
    assertEquals(List.of("stale sibling", "read-your-writes"), rules(c));
  }

  @Test
  void aPayloadWithAnEntryRemovedIsNotCausallyClosed() {
    CausalChecker c = new CausalChecker(2);
    Version x1 = v("x", "1", "A", 1, vc("A", 1), 10);
    c.write(0, 0, Siblings.EMPTY, x1);
    c.read(1, 1, "N", "x", Siblings.of(List.of(x1)), true, true, vc("A", 1));
    Version y1 = v("y", "1", "B", 1, vc("A", 1, "B", 1), 10);
    c.write(2, 1, Siblings.EMPTY, y1);
    c.read(3, 0, "N", "y", Siblings.of(List.of(y1)), true, true, vc("B", 1)); // handed out without A's entry
    assertTrue(rules(c).contains("payload not causally closed"), rules(c).toString());
    assertTrue(rules(c).contains("payload lost history"), rules(c).toString());
  }

  @Test
  void aWriteWhoseVcMissesItsCausalPastIsCaught() {
    CausalChecker c = new CausalChecker(1);
    Version x1 = v("x", "1", "A", 1, vc("A", 1), 10);
    c.write(0, 0, Siblings.EMPTY, x1);
    c.write(1, 0, Siblings.of(List.of(x1)), v("x", "2", "B", 1, vc("B", 1), 11)); // forgot the session's payload
    assertTrue(rules(c).contains("write history wrong"), rules(c).toString());
  }

  @Test
  void lostAndWrongSiblingsAfterConvergence() {
    CausalChecker c = new CausalChecker(2);
    Version a = v("x", "a", "A", 1, vc("A", 1), 10);
    Version b = v("x", "b", "B", 1, vc("B", 1), 20);
    c.write(0, 0, Siblings.EMPTY, a);
    c.write(1, 1, Siblings.EMPTY, b);
    c.converged(Map.of("A", new TreeMap<>(Map.of("x", Siblings.of(List.of(b))))));
    assertEquals(List.of("lost write", "wrong siblings"), rules(c));
  }

  @Test
  void unknownVersionsArePhantoms() {
    CausalChecker c = new CausalChecker(1);
    c.read(0, 0, "N", "x", Siblings.of(List.of(v("x", "?", "Z", 1, vc("Z", 1), 1))), true, true, vc("Z", 1));
    assertTrue(rules(c).contains("phantom write"), rules(c).toString());
  }

  @Test
  void collectedTombstonesCountAsReflectedButWhatTheyDeletedMustNotComeBack() {
    CausalChecker c = new CausalChecker(1);
    Version x1 = v("x", "1", "A", 1, vc("A", 1), 10);
    Version del = new Version("x", null, new Dot("A", 2), vc("A", 2), 11);
    c.write(0, 0, Siblings.EMPTY, x1);
    c.write(1, 0, Siblings.of(List.of(x1)), del);
    c.collected("N", "N#1", List.of(Siblings.of(List.of(del))));
    c.read(2, 0, "N", "x", Siblings.EMPTY, true, true, vc("A", 2)); // deleted for good: fine
    assertEquals(List.of(), c.anomalies());
    c.read(3, 0, "N", "x", Siblings.of(List.of(x1)), true, true, vc("A", 2)); // x=1 resurrected
    assertTrue(rules(c).contains("deleted key came back"), rules(c).toString());
    assertTrue(rules(c).contains("stale sibling"), rules(c).toString());
  }

  @Test
  void aWriteAfterCollectingFollowsTheCollectedTombstones() {
    CausalChecker c = new CausalChecker(2);
    Version del = new Version("x", null, new Dot("A", 1), vc("A", 1), 11);
    c.write(0, 0, Siblings.EMPTY, del);
    c.collected("B", "B", List.of(Siblings.of(List.of(del))));
    c.write(1, 1, Siblings.EMPTY, v("x", "2", "B", 1, vc("A", 1, "B", 1), 12)); // lastOwnVc carried the tombstone
    assertEquals(List.of(), c.anomalies());
  }

  @Test
  void aCollectionSeenBeforeTheTombstonesAnswerCountsOnceItArrives() {
    // simulation seed 5130: a lone member collects its own tombstone in the step after making it,
    // then its fsync fails and the delete is answered as indefinite; the collection survived.
    CausalChecker c = new CausalChecker(1);
    Version x1 = v("x", "1", "A", 1, vc("A", 1), 10);
    Version del = new Version("x", null, new Dot("A", 2), vc("A", 2), 11);
    c.write(0, 0, Siblings.EMPTY, x1);
    c.collected("A", "A", List.of(Siblings.of(List.of(del))));
    c.indefiniteWrite(1, 0, Siblings.of(List.of(x1)), del);
    c.read(2, 0, "A", "x", Siblings.EMPTY, true, true, vc("A", 1)); // deleted for good: fine
    assertEquals(List.of(), c.anomalies());
    c.read(3, 0, "A", "x", Siblings.of(List.of(x1)), true, true, vc("A", 1)); // x=1 resurrected
    assertTrue(rules(c).contains("deleted key came back"), rules(c).toString());
  }
}
