package dev.causalkv.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.causalkv.core.VectorClock;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/** Link state, lag and the transition and catch-up logs, driven by hand with a manual clock. */
class PeerHealthTest {

  final AtomicLong now = new AtomicLong(1_000_000);
  final AtomicReference<VectorClock> local = new AtomicReference<>(VectorClock.EMPTY);
  final PeerHealth health = new PeerHealth(local::get, now::get, new Metrics());

  PeerHealth.Peer peer(String id) {
    return health.snapshot().stream().filter(p -> p.peer().equals(id)).findFirst().orElseThrow();
  }

  static VectorClock vc(Object... kv) {
    java.util.Map<String, Long> m = new java.util.HashMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], ((Number) kv[i + 1]).longValue());
    return VectorClock.of(m);
  }

  @Test
  void transitionsAreLoggedOnceAndASingleFailedPullIsNotADownLink() {
    try (LogCapture log = new LogCapture(PeerHealth.class, Level.INFO)) {
      health.pullEnded("b", false, false, null);
      assertEquals(List.of("INFO peer b is not reachable (yet), retrying with backoff"), log.lines());
      now.addAndGet(1500);
      health.pullEnded("b", true, false, VectorClock.EMPTY);
      assertTrue(log.lines().get(1).startsWith("INFO peer b is up (was down for 1.5 s)"), log.lines().toString());
      assertTrue(peer("b").reachable());
      log.clear();
      health.pullEnded("b", false, false, null); // one pull cut short
      assertFalse(peer("b").reachable(), "the state itself is not damped");
      health.pullEnded("b", true, false, VectorClock.EMPTY);
      assertEquals(List.of(), log.lines(), "no up/down pair for one failed pull");
      health.pullEnded("b", false, false, null);
      health.pullEnded("b", false, false, null);
      assertEquals(1, log.lines().size());
      assertTrue(log.lines().get(0).startsWith("WARNING peer b is unreachable"), log.lines().toString());
      health.pullEnded("b", false, false, null);
      assertEquals(1, log.lines().size(), "logged once while it stays down");
      health.pullEnded("b", false, true, null);
      assertTrue(log.lines().get(1).contains("refuses this node's pulls"), log.lines().toString());
      assertTrue(peer("b").reachable(), "a refusing peer answers");
      assertEquals("refused", peer("b").state());
    }
  }

  @Test
  void behindIsWhatThePeerReportedThatThisNodeLacks() {
    health.pullEnded("b", true, false, vc("x", 5, "y", 3));
    local.set(vc("x", 5, "y", 1));
    assertEquals(2, peer("b").behindVersions());
    assertTrue(peer("b").behindSeconds() >= 0);
    local.set(vc("x", 5, "y", 3, "z", 9)); // holding more than the peer is not being behind
    assertEquals(0, peer("b").behindVersions());

    // caught up at t0; then cut off: seconds behind count from the last time it was caught up
    health.pullEnded("b", true, false, vc("x", 5, "y", 3));
    assertEquals(0.0, peer("b").behindSeconds());
    long t0 = now.get();
    now.addAndGet(4000);
    health.pullEnded("b", false, false, null);
    assertEquals(4.0, peer("b").behindSeconds(), 1e-9);
    assertEquals(t0, peer("b").lastSuccessMillis());
    // reachable again but behind: still counting until it has caught up
    now.addAndGet(1000);
    local.set(vc("x", 5, "y", 3));
    health.pullEnded("b", true, false, vc("x", 7, "y", 3));
    assertEquals(2, peer("b").behindVersions());
    assertEquals(5.0, peer("b").behindSeconds(), 1e-9);
    local.set(vc("x", 7, "y", 3));
    health.pullEnded("b", true, false, vc("x", 7, "y", 3));
    assertEquals(0.0, peer("b").behindSeconds());
    assertEquals(5, peer("b").pulls());
    assertEquals(1, peer("b").failures());
  }

  @Test
  void catchUpLogsItsStartProgressWithPercentAndEnd() {
    try (LogCapture log = new LogCapture(PeerHealth.class, Level.INFO)) {
      health.catchUpStarted("b");
      assertTrue(peer("b").catchingUp());
      health.answerStarted("b", List.of("a", "b"), 1000);
      assertEquals(List.of("a", "b"), peer("b").view());
      health.merged("b", 100); // too soon for a progress line
      now.addAndGet(PeerHealth.PROGRESS_EVERY_MILLIS);
      health.merged("b", 500);
      now.addAndGet(2000);
      health.answered("b", false, 1000, 5_000_000);
      health.pullEnded("b", true, false, VectorClock.EMPTY);
      List<String> lines = log.lines();
      assertEquals("INFO catch-up from b started: it holds about 1000 keys", lines.get(0));
      assertEquals("INFO catch-up from b: 500 versions (50%) after 5.0 s", lines.get(1));
      assertEquals("INFO peer b is up", lines.get(2));
      assertEquals("INFO catch-up from b done: 1000 versions, 5.0 MB in 7.0 s", lines.get(3));
      assertFalse(peer("b").catchingUp());
      assertEquals(1000, peer("b").versionsReceived());
      // pulls after the catch-up log nothing more
      log.clear();
      now.addAndGet(10_000);
      health.merged("b", 10);
      health.answered("b", true, 10, 100);
      health.pullEnded("b", true, false, VectorClock.EMPTY);
      assertEquals(List.of(), log.lines());
    }
  }

  @Test
  void aCatchUpThatBreaksOffSaysSoAndStaysCatchingUp() {
    try (LogCapture log = new LogCapture(PeerHealth.class, Level.INFO)) {
      health.catchUpStarted("b");
      health.answerStarted("b", List.of("a", "b"), 10);
      health.pullEnded("b", false, false, null);
      assertTrue(log.lines().stream().anyMatch(l -> l.contains("catch-up from b broke off")), log.lines().toString());
      assertTrue(peer("b").catchingUp());
      health.forget("b");
      assertTrue(health.snapshot().isEmpty(), "a peer that left the view is forgotten");
    }
  }
}
