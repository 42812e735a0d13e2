package dev.causalkv.core;

import static dev.causalkv.core.ReplicaTest.vc;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.causalkv.storage.InMemoryStore;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Own-origin pulls (DESIGN.md §5 optimisation): they raise only the peer's origin, and only when sound. */
class OwnPullTest {

  static final List<String> VIEW = List.of("A", "B", "C");

  static Replica open(Store store, String id) {
    return Replica.open(store, id, VIEW, () -> "1", null);
  }

  /** One own-origin pull of {@code from} by {@code to}, as the transport does it. */
  static Replica.PullAnswer ownPull(Replica to, Replica from) {
    Replica.PullAnswer a = from.answerOwnPull(to.meta().applied());
    List<Version> vs = new ArrayList<>();
    a.delta().forEachRemaining(vs::add);
    to.merge(vs);
    to.raiseApplied(a.marks());
    return a;
  }

  @Test
  void anOwnWriteSupersededByAForeignVersionIsReflectedThroughTheKeysCurrentSiblings() {
    Replica a = open(InMemoryStore.create(), "A");
    Replica c = open(InMemoryStore.create(), "C");
    a.write("k", "from-a", VectorClock.EMPTY, 10); // A#1:1
    // B saw A's write and replaced it; A merges B's version, which dominates A#1:1
    Version fromB = new Version("k", "from-b", new Dot("B#1", 1), vc("A#1", 1, "B#1", 1), 20);
    a.merge(List.of(fromB));
    a.write("j", "x", VectorClock.EMPTY, 30); // A#1:2

    Replica.PullAnswer ans = ownPull(c, a);
    assertEquals(vc("A#1", 2), ans.marks(), "only A's own origin is promised");
    assertEquals(a.meta().applied(), ans.peerApplied());
    assertEquals(2, c.meta().applied().get("A#1"));
    assertEquals(0, c.meta().applied().get("B#1"), "B's origin is not raised by an own pull of A");
    // a client that saw A#1:1 reads k at C: covered, and the answer is B's version that replaced it
    Replica.Read r = c.read("k", vc("A#1", 1));
    assertTrue(r.covered());
    assertEquals("from-b", r.siblings().visible().value());
    // but a client that saw B's write is not covered for other keys B may have written
    assertFalse(c.read("other", vc("B#1", 1)).covered());
  }

  @Test
  void heldOwnPullWakesOnlyForOwnWrites() {
    Replica a = open(InMemoryStore.create(), "A");
    Replica c = open(InMemoryStore.create(), "C");
    a.write("k", "1", VectorClock.EMPTY, 1);
    ownPull(c, a);
    assertFalse(a.hasOwnNewsFor(c.meta().applied()));
    a.merge(List.of(new Version("z", "b", new Dot("B#1", 1), vc("B#1", 1), 5)));
    assertFalse(a.hasOwnNewsFor(c.meta().applied()), "a foreign version is not own news");
    assertTrue(a.hasNewsFor(c.meta().applied(), c.seen()), "but it is news for a complete pull");
    a.write("k", "2", VectorClock.EMPTY, 6);
    assertTrue(a.hasOwnNewsFor(c.meta().applied()));
  }

  @Test
  void afterARestartOrTruncationPullersBehindTheLogGetTheCompleteDelta() {
    InMemoryStore store = InMemoryStore.create();
    Replica a = open(store, "A");
    a.write("k", "1", VectorClock.EMPTY, 1);
    a.merge(List.of(new Version("z", "b", new Dot("B#1", 1), vc("B#1", 1), 5)));
    Replica restarted = open(store, "A"); // the own-write log is not persisted
    Replica c = open(InMemoryStore.create(), "C");
    assertTrue(restarted.hasOwnNewsFor(c.meta().applied()));
    Replica.PullAnswer ans = ownPull(c, restarted);
    assertEquals(restarted.meta().applied(), ans.marks(), "complete delta, complete marks");
    assertEquals("b", c.read("z", VectorClock.EMPTY).siblings().visible().value());

    // truncation: once every member reported A's writes applied, older positions fall out
    Replica b = open(InMemoryStore.create(), "B");
    restarted.write("k", "2", VectorClock.EMPTY, 7);
    restarted.write("k", "3", VectorClock.EMPTY, 8);
    VectorClock upToDate = restarted.meta().applied();
    restarted.notePeerApplied("B", upToDate, restarted.view());
    restarted.notePeerApplied("C", upToDate, restarted.view());
    Replica.PullAnswer late = restarted.answerOwnPull(b.meta().applied());
    assertEquals(upToDate, late.marks(), "a puller behind the truncated log gets a complete delta");
    Replica.PullAnswer current = restarted.answerOwnPull(upToDate);
    assertFalse(current.delta().hasNext());
  }
}
