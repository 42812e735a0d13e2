package dev.causalkv.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.causalkv.core.VectorClock;
import dev.causalkv.core.ViewState;
import dev.causalkv.protocol.PeerStatus;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/**
 * Link state, lag, pull counts and the up/down logs derived from the core's per-peer snapshots,
 * fed by hand with a manual clock, as the loop hands them over after each step.
 */
class PeerHealthTest {

  final AtomicLong now = new AtomicLong(1_000_000);
  final AtomicReference<VectorClock> local = new AtomicReference<>(VectorClock.EMPTY);
  final Metrics metrics = new Metrics();
  final PeerHealth health = new PeerHealth(local::get, now::get, metrics);

  /** What the core knows of peer b; each call is a new snapshot. */
  final class B {
    PeerStatus.Link link = PeerStatus.Link.UNKNOWN;
    boolean caughtUp;
    long last = -1;
    int inRow;
    long completed;
    long failed;
    long refused;
    VectorClock applied = VectorClock.EMPTY;

    void complete(VectorClock peerApplied) {
      link = PeerStatus.Link.UP;
      caughtUp = true;
      last = now.get();
      inRow = 0;
      completed++;
      applied = peerApplied;
      publish();
    }

    void fail() {
      link = PeerStatus.Link.DOWN;
      inRow++;
      failed++;
      publish();
    }

    void refuse() {
      link = PeerStatus.Link.REFUSED;
      inRow = 0;
      refused++;
      publish();
    }

    void publish() {
      health.observe(List.of(new PeerStatus("b", link, caughtUp ? PeerStatus.Mode.OWN : PeerStatus.Mode.CATCH_UP, caughtUp,
          last, inRow, completed, failed, refused, applied, ViewState.initial(List.of("a", "b")))), now.get());
    }
  }

  final B b = new B();

  PeerHealth.Peer peer(String id) {
    return health.snapshot().stream().filter(p -> p.peer().equals(id)).findFirst().orElseThrow();
  }

  static VectorClock vc(Object... kv) {
    java.util.Map<String, Long> m = new java.util.HashMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], ((Number) kv[i + 1]).longValue());
    return VectorClock.of(m);
  }

  String text() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    metrics.writeText(out);
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void transitionsAreLoggedOnceAndASingleFailedPullIsNotADownLink() {
    try (LogCapture log = new LogCapture(PeerHealth.class, Level.INFO)) {
      b.publish();
      assertEquals(List.of(), log.lines(), "no pull has ended yet");
      assertEquals("unknown", peer("b").state());
      b.fail();
      assertEquals(List.of("INFO peer b is not reachable (yet), retrying with backoff"), log.lines());
      now.addAndGet(1500);
      b.complete(VectorClock.EMPTY);
      assertTrue(log.lines().get(1).startsWith("INFO peer b is up (was down for 1.5 s)"), log.lines().toString());
      assertTrue(peer("b").reachable());
      log.clear();
      b.fail(); // one pull cut short
      assertFalse(peer("b").reachable(), "the state itself is not damped");
      b.complete(VectorClock.EMPTY);
      assertEquals(List.of(), log.lines(), "no up/down pair for one failed pull");
      b.fail();
      b.fail();
      assertEquals(1, log.lines().size());
      assertTrue(log.lines().get(0).startsWith("WARNING peer b is unreachable"), log.lines().toString());
      b.fail();
      assertEquals(1, log.lines().size(), "logged once while it stays down");
      b.refuse();
      assertTrue(log.lines().get(1).contains("refuses this node's pulls"), log.lines().toString());
      assertTrue(peer("b").reachable(), "a refusing peer answers");
      assertEquals("refused", peer("b").state());
      health.observe(List.of(), now.get());
      assertTrue(health.snapshot().isEmpty(), "a peer the core no longer pulls from is forgotten");
    }
  }

  @Test
  void pullsAreCountedFromTheChangesBetweenSnapshots() throws Exception {
    b.fail();
    b.fail();
    b.complete(VectorClock.EMPTY);
    b.publish(); // the same figures again: nothing new to count
    b.refuse();
    String t = text();
    assertTrue(t.contains("causalkv_pulls_total{peer=\"b\",result=\"failed\"} 2.0"), t);
    assertTrue(t.contains("causalkv_pulls_total{peer=\"b\",result=\"complete\"} 1.0"), t);
    assertTrue(t.contains("causalkv_pulls_total{peer=\"b\",result=\"refused\"} 1.0"), t);
    assertEquals(4, peer("b").pulls());
    assertEquals(2, peer("b").failures());
    assertTrue(t.contains("causalkv_peer_up{peer=\"b\"} 1.0"), t);
    assertTrue(t.contains("causalkv_peer_catching_up{peer=\"b\"} 0.0"), t);
  }

  @Test
  void behindIsWhatThePeerReportedThatThisNodeLacks() {
    b.complete(vc("x", 5, "y", 3));
    local.set(vc("x", 5, "y", 1));
    assertEquals(2, peer("b").behindVersions());
    assertTrue(peer("b").behindSeconds() >= 0);
    local.set(vc("x", 5, "y", 3, "z", 9)); // holding more than the peer is not being behind
    assertEquals(0, peer("b").behindVersions());

    // caught up at t0; then cut off: seconds behind count from the last time it was caught up
    b.complete(vc("x", 5, "y", 3));
    assertEquals(0.0, peer("b").behindSeconds());
    long t0 = now.get();
    now.addAndGet(4000);
    b.fail();
    assertEquals(4.0, peer("b").behindSeconds(), 1e-9);
    assertEquals(4000, peer("b").lastSuccessAgeMillis());
    assertEquals(t0, now.get() - peer("b").lastSuccessAgeMillis());
    // reachable again but behind: still counting until it has caught up
    now.addAndGet(1000);
    local.set(vc("x", 5, "y", 3));
    b.complete(vc("x", 7, "y", 3));
    assertEquals(2, peer("b").behindVersions());
    assertEquals(5.0, peer("b").behindSeconds(), 1e-9);
    local.set(vc("x", 7, "y", 3));
    b.complete(vc("x", 7, "y", 3));
    assertEquals(0.0, peer("b").behindSeconds());
    assertEquals(List.of("a", "b"), peer("b").view());
    assertEquals("own", peer("b").mode());
  }

  @Test
  void aPeerNotYetCaughtUpFromIsCatchingUpAndCountsItsSecondsBehind() {
    b.fail();
    now.addAndGet(2000);
    PeerHealth.Peer p = peer("b");
    assertTrue(p.catchingUp());
    assertEquals("catch-up", p.mode());
    assertEquals(-1, p.lastSuccessAgeMillis());
    assertEquals(2.0, p.behindSeconds(), 1e-9);
  }
}
