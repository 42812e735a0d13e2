package dev.causalkv.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import java.util.ArrayList;
import java.util.List;
import dev.causalkv.core.Batch;
import dev.causalkv.core.Dot;
import dev.causalkv.core.Siblings;
import dev.causalkv.storage.InMemoryStore;
import org.junit.jupiter.api.Test;

/** Pulls (docs/design.md §5), stepped by hand through the production core. */
class PullsTest {

  @Test
  void aBrokenOffAnswerMergesWhatCameButRaisesNothing() {
    Cores c = new Cores();
    Cores.N a = c.add("A", List.of("A", "B"));
    Cores.N b = c.add("B", List.of("A", "B"));
    c.outbox.clear(); // drop the first pulls: this test drives one by hand
    Reply.Client w1 = a.put("x", "1", VectorClock.EMPTY);
    a.put("y", "2", VectorClock.EMPTY);
    c.outbox.clear();
    c.advance(10_000); // the dropped pulls time out ...
    c.outbox.clear();
    c.advance(1_000); // ... and after the backoff B issues a new pull to A
    Cores.Message pull = c.outbox.stream().filter(m -> m.from().equals("B") && m.send() instanceof Send.Pull).findFirst().orElseThrow();
    c.outbox.clear();
    Send.Pull p = (Send.Pull) pull.send();
    Reply[] answer = new Reply[1];
    long rid = a.register(r -> answer[0] = r);
    a.loop.step(new Event.PullArrived(rid, p.request()));
    Reply.PullAnswer ans = assertInstanceOf(Reply.Pull.class, answer[0]).answer();
    List<Version> vs = new ArrayList<>();
    try (Store.Delta d = ans.delta()) {
      d.forEachRemaining(vs::add);
    }
    assertEquals(2, vs.size());
    b.loop.step(new Event.AnswerBegan(p.pullId(), ans.view(), ans.marks()));
    b.loop.step(new Event.AnswerVersions(p.pullId(), vs.subList(0, 1)));
    b.loop.step(new Event.PullFailed(p.pullId())); // the stream broke off
    assertEquals(0, b.applied().get(a.core.origin()), "no mark raised by a partial answer");
    assertFalse(b.siblings(vs.get(0).key()).isEmpty(), "what came is merged (always safe)");
    Reply r = b.get("y", ans.marks()); // a payload that saw everything A had
    assertTrue(r == null || ((Reply.Client) r).outcome() != Reply.Outcome.NOT_FOUND,
        "B must not answer 404 for a key it never received: " + r);
    assertTrue(w1.visible().dot().seq() > 0);
  }

  @Test
  void anAnswerEndingWithTheWrongCountRaisesNothing() {
    Cores c = new Cores();
    Cores.N a = c.add("A", List.of("A", "B"));
    Cores.N b = c.add("B", List.of("A", "B"));
    c.outbox.clear();
    a.put("x", "1", VectorClock.EMPTY);
    c.outbox.clear();
    c.advance(10_000);
    c.outbox.clear();
    c.advance(1_000);
    Send.Pull p = (Send.Pull) c.outbox.stream().filter(m -> m.from().equals("B") && m.send() instanceof Send.Pull)
        .findFirst().orElseThrow().send();
    c.outbox.clear();
    b.loop.step(new Event.AnswerBegan(p.pullId(), a.core.meta().view(), a.applied()));
    b.loop.step(new Event.AnswerEnded(p.pullId(), a.applied(), a.applied(), 1)); // promised one version, sent none
    assertEquals(0, b.applied().get(a.core.origin()));
  }

  @Test
  void writesFlowAroundACutLinkThroughTheThirdNode() {
    List<String> view = List.of("A", "B", "C");
    Cores c = new Cores();
    Cores.N a = c.add("A", view);
    c.add("B", view);
    Cores.N cc = c.add("C", view);
    c.run(300);
    c.cut("A", "C");
    Reply.Client w = a.put("k", "v", VectorClock.EMPTY);
    c.run(1_500);
    Reply got = cc.get("k", w.payload());
    assertEquals(Reply.Outcome.VALUE, assertInstanceOf(Reply.Client.class, got, "C reads A's write via B").outcome());
  }

  @Test
  void inSteadyStateEachWriteIsShippedOncePerReplica() {
    List<String> view = List.of("A", "B", "C");
    Cores c = new Cores();
    Cores.N a = c.add("A", view);
    c.add("B", view);
    c.add("C", view);
    c.run(500);
    long before = c.counters.getOrDefault("pull.versions_received", 0L);
    for (int i = 0; i < 20; i++) a.put("k" + i, "v", VectorClock.EMPTY);
    c.run(1_000);
    long shipped = c.counters.getOrDefault("pull.versions_received", 0L) - before;
    assertEquals(40, shipped, "20 writes to 2 replicas, once each (own-origin pulls, no forwarding)");
  }

  @Test
  void afterAPartitionHealsNoPeerRepeatsTheFarSidesWrites() {
    List<String> view = List.of("A", "B", "C");
    Cores c = new Cores();
    Cores.N a = c.add("A", view);
    Cores.N b = c.add("B", view);
    Cores.N cc = c.add("C", view);
    c.run(500);
    c.cut("A", "C");
    c.cut("B", "C");
    c.run(3_000); // every pull to or from C has failed by now
    int n = 50;
    for (int i = 0; i < n; i++) {
      a.put("k" + i, "a", VectorClock.EMPTY);
      cc.put("k" + i, "c", VectorClock.EMPTY);
    }
    c.run(1_000);
    long before = c.counters.getOrDefault("pull.versions_received", 0L);
    c.heal();
    c.run(3_000);
    long shipped = c.counters.getOrDefault("pull.versions_received", 0L) - before;
    assertEquals(a.applied(), cc.applied(), "converged");
    assertEquals(a.applied(), b.applied(), "converged");
    for (int i = 0; i < n; i++) assertEquals(2, cc.get("k" + i, VectorClock.EMPTY) instanceof Reply.Client r ? r.siblings().versions().size() : -1);
    // C needs A's n writes, A and B need C's n: 3n at the least
    assertTrue(shipped >= 3L * n, "shipped " + shipped);
    // before forwarding pulls were cancelled on the heal and own answers filtered: 9n
    assertTrue(shipped <= 5L * n, "no peer repeats the far side's writes wholesale after the heal, shipped " + shipped);
  }

  @Test
  void aRestartedNodeCatchesUpFromTheOnePeerItReachesWhileTheOthersSynsAreDropped() {
    List<String> view = List.of("A", "B", "C", "D");
    Cores c = new Cores();
    c.connectTimeoutMillis = Pullers.CATCH_UP_TURN_MILLIS; // the case where cut peers' retries raced the turn
    Cores.N a = c.add("A", view);
    c.add("B", view);
    Cores.N cc = c.add("C", view);
    Cores.N d = c.add("D", view);
    c.run(500);
    c.drop("A", "D");
    c.drop("B", "D");
    c.cut("C", "D");
    for (int i = 0; i < 20; i++) a.put("k" + i, "v", VectorClock.EMPTY);
    c.run(1_000);
    c.cut.clear(); // C and D reach each other again; A's and B's packets to D are still dropped
    d.restart(); // A and B sort before C, so their catch-ups are tried first
    c.run(1_000);
    assertEquals(cc.applied(), d.applied(), "D caught up from C while A's and B's connects kept timing out");
    assertEquals(1, d.get("k19", VectorClock.EMPTY) instanceof Reply.Client r ? r.siblings().versions().size() : -1);
  }

  @Test
  void aHealedLinkIsBackAsSoonAsEitherSideGetsAPullThrough() {
    List<String> view = List.of("A", "C");
    Cores c = new Cores();
    Cores.N a = c.add("A", view);
    Cores.N cc = c.add("C", view);
    c.run(500);
    c.drop("A", "C");
    c.run(3_000); // both sides' pulls keep timing out, with backoff between
    a.put("x", "a", VectorClock.EMPTY);
    cc.put("y", "c", VectorClock.EMPTY);
    long[] firstThrough = new long[2];
    long converged = -1;
    c.heal();
    long healed = c.now;
    for (int t = 0; t < 2_000 && converged < 0; t += 10) {
      c.advance(10);
      c.settle();
      if (firstThrough[0] == 0 && a.applied().get("C#1") > 0) firstThrough[0] = c.now;
      if (firstThrough[1] == 0 && cc.applied().get("A#1") > 0) firstThrough[1] = c.now;
      if (a.applied().equals(cc.applied())) converged = c.now;
    }
    assertTrue(converged > 0, "converged");
    assertTrue(c.counters.getOrDefault("pull.retried_on_contact", 0L) > 0, "a pull from the failing peer brought the retry forward");
    // the second direction follows the first at once, not after its own connect timeout and backoff
    assertTrue(converged - Math.min(firstThrough[0], firstThrough[1]) <= 20,
        "healed at " + healed + ", first direction through at " + Math.min(firstThrough[0], firstThrough[1]) + ", converged at " + converged);
  }

  @Test
  void aPeerThatPullsButFailsEveryPullIsStillRetriedWithBackoff() {
    List<String> view = List.of("A", "C");
    Cores c = new Cores();
    c.add("A", view);
    c.add("C", view);
    c.run(500);
    c.failingPulls.add("A>C"); // C keeps pulling A, but every pull A sends C fails
    c.run(500);
    long before = c.counters.getOrDefault("pull.failed", 0L);
    c.run(3_000);
    long failed = c.counters.getOrDefault("pull.failed", 0L) - before;
    // with backoff capped at 250 ms (jitter down to half), at most about 3000 / 125 retries; without
    // the once-only rule, every pull from C would send one at once
    assertTrue(failed <= 3_000 / (Pullers.MAX_BACKOFF_MILLIS / 2) + 2, "retries in 3 s: " + failed);
    assertTrue(failed >= 3_000 / Pullers.MAX_BACKOFF_MILLIS - 2, "still retried: " + failed);
  }

  @Test
  void anOwnAnswerKeepsTheSiblingsThatReflectItsWritesAndLeavesTheConcurrentOnes() {
    InMemoryStore store = InMemoryStore.create();
    new Cores().add("A", List.of("A"), store); // a store as a node leaves it: with its meta
    // A's write k@A#1 was superseded by B's version, which saw it; C's version is concurrent with both
    Version fromB = new Version("k", "b", new Dot("B#1", 1), VectorClock.EMPTY.with("A#1", 1).with("B#1", 1), 5);
    Version fromC = new Version("k", "c", new Dot("C#1", 1), VectorClock.EMPTY.with("C#1", 1), 6);
    store.commit(new Batch(List.of(new Batch.KeyChange("k", Siblings.EMPTY, Siblings.EMPTY.merge(fromB).merge(fromC))),
        store.loadMeta()));
    List<Version> sent = new ArrayList<>();
    new PullServer.KeysDelta(store, List.of("k"), "A#1", 0).forEachRemaining(sent::add);
    assertEquals(List.of(fromB), sent, "the version reflecting A's write goes, the concurrent one does not");
    sent.clear();
    new PullServer.KeysDelta(store, List.of("k"), "A#1", 1).forEachRemaining(sent::add);
    assertEquals(List.of(), sent, "nothing of A above seq 1");
  }
}
