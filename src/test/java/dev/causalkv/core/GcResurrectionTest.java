package dev.causalkv.core;

import static dev.causalkv.core.ReplicaTest.pull;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A version that arrives after the tombstone that superseded it was garbage-collected must not
 * come back. Found by the simulation (seed 7 at the commit that added GC to it): an answer read
 * from an older snapshot of a peer (the stream was slow, or a late duplicate) still carried
 * versions the puller had since seen deleted and collected; merging them into the now empty key
 * brought the deleted data back, at that node only, for good (peers never send it again: its seq
 * is below their applied).
 */
class GcResurrectionTest {

  static Replica open(String id) {
    return Replica.open(dev.causalkv.storage.InMemoryStore.create(), id, List.of("A", "B"), () -> "1", null);
  }

  @Test
  void aValueFromAnOldSnapshotDoesNotResurrectACollectedKey() {
    Replica a = open("A");
    Replica b = open("B");
    Replica.Write w = a.write("x", "1", VectorClock.EMPTY, 1);
    Replica.PullAnswer old = a.answerPull(b.meta().applied()); // snapshot with x=1 live; its stream is slow
    List<Version> oldVersions = new ArrayList<>();
    old.delta().forEachRemaining(oldVersions::add);
    assertEquals(List.of(w.version()), oldVersions);
    a.write("x", null, w.version().vc(), 2); // the client deletes x
    pull(b, a); // B gets the tombstone by another pull
    b.notePeerApplied("A", a.meta().applied(), a.view()); // A reports (in its pulls) that it has it too
    assertEquals(1, b.collectGarbage(10), "the tombstone is causally stable at B");
    assertTrue(b.read("x", VectorClock.EMPTY).siblings().isEmpty());
    b.merge(oldVersions); // the old answer finally arrives
    b.raiseApplied(old.marks());
    Siblings s = b.read("x", VectorClock.EMPTY).siblings();
    assertFalse(s.exists(), "x was deleted, its tombstone collected, and it came back: " + s);
  }

  @Test
  void aCollectedTombstoneDeliveredAgainStaysCollected() {
    Replica a = open("A");
    Replica b = open("B");
    Replica.Write d = a.write("x", null, VectorClock.EMPTY, 1);
    pull(b, a);
    b.notePeerApplied("A", a.meta().applied(), a.view());
    assertEquals(1, b.collectGarbage(10));
    b.merge(List.of(d.version())); // a late duplicate of an answer
    assertTrue(b.read("x", VectorClock.EMPTY).siblings().isEmpty());
  }

  @Test
  void versionsNotYetAppliedAreStillMerged() {
    Replica a = open("A");
    Replica b = open("B");
    Replica.Write w = a.write("x", "1", VectorClock.EMPTY, 1);
    b.merge(List.of(w.version())); // part of an answer that then broke off: applied not raised
    assertEquals("1", b.read("x", VectorClock.EMPTY).siblings().visible().value());
  }
}
