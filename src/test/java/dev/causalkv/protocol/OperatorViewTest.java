package dev.causalkv.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.causalkv.core.VectorClock;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What the core shows operators, stepped by hand through the production core: the per-peer
 * snapshot ({@link NodeCore#peers}) and the observations of waits ({@link NodeCore.Counter#observe}).
 */
class OperatorViewTest {

  static PeerStatus peer(Cores.N n, String id) {
    return n.core.peers().stream().filter(p -> p.peer().equals(id)).findFirst().orElseThrow();
  }

  @Test
  void thePeerSnapshotFollowsLinksModesAndWhatThePeerHolds() {
    List<String> view = List.of("A", "B", "C");
    Cores c = new Cores();
    Cores.N a = c.add("A", view);
    Cores.N b = c.add("B", view);
    c.add("C", view);
    PeerStatus fresh = peer(b, "A");
    assertEquals(PeerStatus.Link.UNKNOWN, fresh.link());
    assertEquals(PeerStatus.Mode.CATCH_UP, fresh.mode());
    assertFalse(fresh.caughtUp());
    assertEquals(-1, fresh.lastCompletedMillis());
    assertEquals(List.of("A", "C"), b.core.peers().stream().map(PeerStatus::peer).toList());

    Reply.Client w = a.put("k", "v", VectorClock.EMPTY);
    c.run(1_500);
    PeerStatus up = peer(b, "A");
    assertEquals(PeerStatus.Link.UP, up.link());
    assertTrue(up.reachable() && up.caughtUp());
    assertEquals(PeerStatus.Mode.OWN, up.mode(), "after the catch-up, own-origin pulls");
    assertTrue(up.lastCompletedMillis() > 1_000 && up.lastCompletedMillis() <= c.now, "on the core's clock");
    assertTrue(up.completed() >= 2);
    assertEquals(0, up.failed());
    assertTrue(up.peerApplied().covers(w.visible().dot()), "what A said it holds");
    assertEquals(view, up.peerView().members());

    // nothing changed: the same snapshot, so a driver compares references
    List<PeerStatus> before = b.core.peers();
    b.loop.step(new Event.Tick());
    assertSame(before, b.core.peers());

    c.cut("B", "C");
    c.run(1_000);
    PeerStatus down = peer(b, "C");
    assertEquals(PeerStatus.Link.DOWN, down.link());
    assertFalse(down.reachable());
    assertTrue(down.failures() >= 2, "failures in a row: " + down.failures());
    assertTrue(down.failed() >= down.failures());
    assertEquals(PeerStatus.Mode.FORWARD, peer(b, "A").mode(), "C cannot be reached: A forwards its writes");
    long completedBefore = down.completed();

    c.heal();
    c.run(1_500);
    PeerStatus back = peer(b, "C");
    assertEquals(PeerStatus.Link.UP, back.link());
    assertEquals(0, back.failures());
    assertTrue(back.completed() > completedBefore);
    c.run(5_500); // the forwarding pull to A in flight is held up to its hold (5 s), then pulls are own-origin again
    assertEquals(PeerStatus.Mode.OWN, peer(b, "A").mode());
  }

  @Test
  void aPeerThatDoesNotListThisNodeRefusesAndIsStillReachable() {
    Cores c = new Cores();
    c.add("A", List.of("A"));
    Cores.N b = c.add("B", List.of("A", "B"));
    c.settle();
    PeerStatus s = peer(b, "A");
    assertEquals(PeerStatus.Link.REFUSED, s.link());
    assertTrue(s.reachable());
    assertEquals(1, s.refused());
    assertFalse(s.caughtUp());
  }

  @Test
  void readsThatWaitedAreObservedWithTheirWaitOnTheCoresClock() {
    Cores c = new Cores();
    Cores.N a = c.add("A", List.of("A", "B"));
    Cores.N b = c.add("B", List.of("A", "B"));
    c.run(300);
    c.cut("A", "B");
    Reply.Client w = a.put("k", "v", VectorClock.EMPTY);
    Reply[] later = new Reply[1];
    long rid = b.register(r -> later[0] = r);
    b.loop.clientOp(new Event.ClientOp(rid, Event.Op.GET, "k", null, w.payload(), c.now));
    assertNull(later[0]);
    assertEquals(1, b.core.parkedCount());
    c.advance(300);
    c.heal();
    c.run(500);
    assertEquals(Reply.Outcome.VALUE, assertInstanceOf(Reply.Client.class, later[0]).outcome());
    List<Double> ready = c.observations.get("B wait.read.ready_millis");
    assertEquals(1, ready.size());
    assertTrue(ready.get(0) >= 300 && ready.get(0) < c.causalWaitMillis, "waited " + ready.get(0));
    assertEquals(0, b.core.parkedCount());

    // one that stays uncovered for the whole wait
    c.cut("A", "B");
    Reply.Client w2 = a.put("k", "v2", w.payload());
    assertNull(b.get("k", w2.payload()));
    c.run(c.causalWaitMillis + 100);
    assertEquals(List.of((double) c.causalWaitMillis), c.observations.get("B wait.read.timeout_millis"));
    assertEquals(1, c.observations.get("B wait.read.ready_millis").size(), "no answer counted twice");
  }

  @Test
  void heldPullsAreCountedAndTheirHoldObserved() {
    Cores c = new Cores();
    Cores.N a = c.add("A", List.of("A", "B"));
    c.add("B", List.of("A", "B"));
    c.run(1_000);
    c.settle();
    assertEquals(1, a.core.heldPullCount(), "B's own-origin pull is held at A, waiting for news");
    List<Double> holds = c.observations.get("A wait.pull.timeout_millis");
    assertTrue(holds != null && !holds.isEmpty(), "held pulls that ran out their hold: " + c.observations);
    assertTrue(holds.stream().allMatch(h -> h >= Pullers.OWN_HOLD_MILLIS - 50 && h <= Pullers.OWN_HOLD_MILLIS + 50), holds.toString());
    a.put("k", "v", VectorClock.EMPTY);
    c.settle();
    assertEquals(1, c.observations.get("A wait.pull.ready_millis").size(), "answered early: the write was news");
  }
}
