package dev.causalkv.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.causalkv.storage.InMemoryStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Unit tests of the replica: covered(), ignorable origins, plausibility, writes and pull answers. */
class ReplicaTest {

  static final List<String> VIEW = List.of("A", "B", "C");

  static Replica open(String id) {
    return Replica.open(InMemoryStore.create(), id, VIEW, () -> "1", null);
  }

  static VectorClock vc(Object... kv) {
    java.util.Map<String, Long> m = new java.util.HashMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], ((Number) kv[i + 1]).longValue());
    return VectorClock.of(m);
  }

  /** One complete pull of {@code from} by {@code to}, as the transport does it. */
  static void pull(Replica to, Replica from) {
    Replica.PullAnswer a = from.answerPull(to.meta().applied());
    List<Version> vs = new ArrayList<>();
    a.delta().forEachRemaining(vs::add);
    to.merge(vs);
    to.raiseApplied(a.marks());
  }

  @Test
  void emptyPayloadIsAlwaysCovered() {
    Replica a = open("A");
    Replica.Read r = a.read("k", VectorClock.EMPTY);
    assertTrue(r.covered());
    assertTrue(r.siblings().isEmpty());
    assertEquals(VectorClock.EMPTY, r.payload());
  }

  @Test
  void writeBuildsItsHistoryFromPayloadSiblingsAndOwnPreviousWrite() {
    Replica a = open("A");
    assertEquals("A#1", a.origin());
    Replica.Write w1 = a.write("x", "1", VectorClock.EMPTY, 100);
    assertFalse(w1.existedBefore());
    assertEquals(new Dot("A#1", 1), w1.version().dot());
    assertEquals(vc("A#1", 1), w1.version().vc());
    assertEquals(100, w1.version().ts());
    // a sibling from B held at A is included in the next write of the key
    Version fromB = new Version("k", "b", new Dot("B#1", 1), vc("B#1", 1), 50);
    a.merge(List.of(fromB));
    Replica.Write w2 = a.write("k", "a", vc("C#1", 2), 10);
    assertTrue(w2.existedBefore(), "k existed (B's version) before the write");
    assertEquals(vc("A#1", 2, "B#1", 1, "C#1", 2), w2.version().vc());
    assertEquals(List.of(w2.version()), a.read("k", VectorClock.EMPTY).siblings().versions(), "the write replaced B's version");
    assertEquals(2, a.meta().applied().get("A#1"));
    // a tombstone is a write: existedBefore is true, and the key no longer exists
    Replica.Write d = a.write("k", null, VectorClock.EMPTY, 11);
    assertTrue(d.existedBefore());
    assertTrue(d.version().isTombstone());
    assertFalse(a.read("k", VectorClock.EMPTY).siblings().exists());
    assertFalse(a.write("k", "again", VectorClock.EMPTY, 12).existedBefore(), "a tombstoned key does not exist");
  }

  @Test
  void coveredBySiblingsWithoutApplied() {
    Replica a = open("A");
    Replica b = open("B");
    Replica.Write w = b.write("k", "v", VectorClock.EMPTY, 1);
    VectorClock p = w.version().vc();
    assertFalse(a.read("k", p).covered(), "A has not seen B's write");
    assertEquals(p, a.read("k", p).payload(), "the returned payload is never smaller than the client's");
    a.merge(List.of(w.version())); // e.g. the first part of an answer that then broke off
    assertEquals(0, a.meta().applied().get("B#1"));
    Replica.Read r = a.read("k", p);
    assertTrue(r.covered(), "k's siblings reflect every write to k in the payload's history");
    assertEquals("v", r.siblings().visible().value());
    assertFalse(a.read("other", p).covered(), "another key cannot be proven up to date");
    a.raiseApplied(vc("B#1", 1));
    assertTrue(a.read("other", p).covered());
  }

  @Test
  void coveredByADominatorFromAnotherOrigin() {
    Replica a = open("A");
    Replica b = open("B");
    Replica c = open("C");
    Replica.Write wb = b.write("k", "b", VectorClock.EMPTY, 1);
    c.merge(List.of(wb.version()));
    Replica.Write wc = c.write("k", "c", VectorClock.EMPTY, 2); // replaces B's version
    assertEquals(vc("B#1", 1, "C#1", 1), wc.version().vc());
    a.merge(List.of(wc.version())); // A never sees B's version itself
    Replica.Read r = a.read("k", wb.version().vc());
    assertTrue(r.covered());
    assertEquals("c", r.siblings().visible().value());
    assertEquals(wc.version().vc(), r.payload());
  }

  @Test
  void originsOfRemovedNodesAreIgnorable() {
    Replica a = open("A");
    VectorClock p = vc("B#1", 5, "C#1", 1);
    assertFalse(a.isIgnorable("B#1"));
    assertFalse(a.read("k", p).covered());
    a.changeView("B", false);
    assertTrue(a.isIgnorable("B#1"));
    assertTrue(a.isIgnorable("B#7"), "every incarnation of a removed node");
    assertFalse(a.isIgnorable("C#1"));
    assertFalse(a.read("k", p).covered(), "C's write is still missing");
    assertTrue(a.read("k", vc("B#1", 5)).covered());
    assertEquals(List.of("A", "C"), a.members());
    assertEquals(List.of("C"), a.peers());
    a.changeView("B", true);
    assertFalse(a.isIgnorable("B#1"), "a node added back is waited for again");
  }

  @Test
  void aRemovedNodeIgnoresEveryOtherOriginButNotItsOwn() {
    Replica a = open("A");
    Replica b = open("B");
    a.write("k", "mine", VectorClock.EMPTY, 1);
    ViewState removed = b.changeView("A", false);
    assertTrue(a.mergeView(removed));
    assertTrue(a.isRemovedSelf());
    assertEquals(List.of("A"), a.members());
    assertEquals(List.of(), a.peers());
    assertTrue(a.isIgnorable("B#1"));
    assertTrue(a.isIgnorable("C#9"));
    assertFalse(a.isIgnorable("A#1"));
    Replica.Read r = a.read("k", vc("B#1", 3, "C#1", 4, "A#1", 1));
    assertTrue(r.covered());
    assertEquals("mine", r.siblings().visible().value());
    assertFalse(a.mergeView(removed), "merging the same view again changes nothing");
  }

  @Test
  void ownOriginForgedPayloadIsNotPlausible() {
    Replica a = open("A");
    assertTrue(a.isPlausible(VectorClock.EMPTY));
    assertFalse(a.isPlausible(vc("A#1", 1)), "A has made no write yet");
    a.write("k", "v", VectorClock.EMPTY, 1);
    assertTrue(a.isPlausible(vc("A#1", 1)));
    assertFalse(a.isPlausible(vc("A#1", 2)));
    assertTrue(a.isPlausible(vc("B#1", 1000, "A#2", 5)), "other origins and other incarnations are not judged here");
  }

  @Test
  void pullAnswerIsTheCompleteDeltaWithMarks() {
    Replica a = open("A");
    Replica b = open("B");
    assertFalse(b.hasNewsFor(a.meta().applied(), a.seen()));
    Replica.Write w1 = b.write("k", "1", VectorClock.EMPTY, 1);
    b.write("k", "2", VectorClock.EMPTY, 2); // supersedes w1: it drops out of B's log
    b.write("l", "3", VectorClock.EMPTY, 3);
    assertTrue(b.hasNewsFor(a.meta().applied(), a.seen()));
    Replica.PullAnswer ans = b.answerPull(VectorClock.EMPTY);
    List<Version> vs = new ArrayList<>();
    ans.delta().forEachRemaining(vs::add);
    assertEquals(2, vs.size(), "only live versions are shipped: " + vs);
    assertFalse(vs.contains(w1.version()));
    assertEquals(vc("B#1", 3), ans.marks());
    pull(a, b);
    assertEquals(vc("B#1", 3), a.meta().applied());
    assertFalse(b.hasNewsFor(a.meta().applied(), a.seen()));
    assertEquals("2", a.read("k", VectorClock.EMPTY).siblings().visible().value());
    assertTrue(a.read("k", w1.version().vc()).covered());
    // the delta from a later position holds only what is newer
    b.write("m", "4", VectorClock.EMPTY, 4);
    List<Version> later = new ArrayList<>();
    b.answerPull(a.meta().applied()).delta().forEachRemaining(later::add);
    assertEquals(1, later.size());
    assertEquals("m", later.get(0).key());
  }

  @Test
  void forwardingCarriesOtherOriginsAndMarksTransitively() {
    Replica a = open("A");
    Replica b = open("B");
    Replica c = open("C");
    Replica.Write wa = a.write("k", "a", VectorClock.EMPTY, 1);
    pull(b, a);
    pull(c, b); // A–C cut: C learns A's write through B
    assertEquals(1, c.meta().applied().get("A#1"));
    Replica.Read r = c.read("other", wa.version().vc());
    assertTrue(r.covered());
    assertNull(r.siblings().visible());
  }

  @Test
  void raisingMarksOfABrokenOffAnswerWouldLetAStaleReadThrough() {
    // Why marks may be raised only after the whole answer: B holds x=2 (dominating x=1 of A);
    // a puller that merged nothing but raised B's marks would call a read of x with a
    // payload naming x=2 covered, and answer the stale x=1.
    Replica a = open("A");
    Replica b = open("B");
    Replica c = open("C");
    Replica.Write x1 = a.write("x", "1", VectorClock.EMPTY, 1);
    pull(b, a);
    pull(c, a);
    Replica.Write x2 = b.write("x", "2", x1.version().vc(), 2);
    Replica.PullAnswer ans = c.answerPull(VectorClock.EMPTY); // stand-in: C's answer is irrelevant
    assertTrue(ans.marks().get("A#1") >= 1);
    assertFalse(c.read("x", x2.version().vc()).covered());
    c.raiseApplied(b.answerPull(c.meta().applied()).marks()); // the bug: marks without versions
    Replica.Read stale = c.read("x", x2.version().vc());
    assertTrue(stale.covered());
    assertEquals("1", stale.siblings().visible().value(), "the anomaly the rule prevents");
  }

  @Test
  void viewMergeIsCommutativeAndIdempotent() {
    ViewState v0 = ViewState.initial(VIEW);
    ViewState x = v0.with("D", true, "A");
    ViewState y = v0.with("B", false, "C");
    ViewState z = v0.with("D", false, "B"); // concurrent with x on D: same counter, author B > A wins
    assertEquals(x.merge(y), y.merge(x));
    assertEquals(x.merge(y).merge(z), x.merge(y.merge(z)));
    assertEquals(x.merge(z), z.merge(x));
    assertEquals(x, x.merge(x));
    assertFalse(x.merge(z).contains("D"));
    assertTrue(x.merge(z).isRemoved("D"));
    assertEquals(Map.of(), ViewState.EMPTY.entries());
  }
}
