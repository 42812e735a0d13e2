package dev.causalkv.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.causalkv.cluster.Client.Reply;
import dev.causalkv.driver.Readiness;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code /health} answers while the process is up; {@code /ready} once caught up and until draining. */
@Timeout(60)
class HealthReadyTest {

  @Test
  void singleNodeIsHealthyAndReady() {
    try (TestCluster c = TestCluster.start(1)) {
      String a = c.id(0);
      Reply h = Client.send("GET", a, "/health");
      assertEquals(200, h.status(), h.raw());
      assertEquals("up", h.json().get("status").getAsString());
      assertEquals(a, h.json().get("node").getAsString());
      Reply r = Client.send("GET", a, "/ready");
      assertEquals(200, r.status(), r.raw());
      assertTrue(r.json().get("ready").getAsBoolean());
      assertEquals(405, Client.send("PUT", a, "/ready").status());
    }
  }

  /**
   * A node whose only peer is not up yet is healthy but not ready; it becomes ready after its first
   * complete pull from that peer, and stays ready when the peer goes away again.
   */
  @Test
  void readyAfterTheFirstCompletePullAndStaysReady() {
    try (TestCluster c = TestCluster.start(0)) {
      String a = TestCluster.newId();
      String b = TestCluster.newId();
      c.startNode(a, List.of(a, b));
      Reply r = Client.send("GET", a, "/ready");
      assertEquals(503, r.status(), r.raw());
      assertFalse(r.json().get("ready").getAsBoolean());
      assertTrue(r.json().get("reason").getAsString().startsWith("catching up"), r.raw());
      assertEquals(200, Client.send("GET", a, "/health").status());
      // still not ready a while later: nothing to pull from
      sleep(500);
      assertEquals(503, Client.send("GET", a, "/ready").status());

      c.startNode(b, List.of(a, b));
      await().atMost(Duration.ofSeconds(10)).until(() -> Client.send("GET", a, "/ready").status() == 200);
      await().atMost(Duration.ofSeconds(10)).until(() -> Client.send("GET", b, "/ready").status() == 200);
      c.kill(b);
      sleep(300);
      assertEquals(200, Client.send("GET", a, "/ready").status(), "caught up once: stays ready when its peer goes");
    }
  }

  @Test
  void drainingIsNotReady() {
    java.util.concurrent.atomic.AtomicReference<String> core = new java.util.concurrent.atomic.AtomicReference<>("catching up: no pull yet");
    Readiness r = new Readiness(core::get);
    assertTrue(r.notReadyReason().startsWith("catching up"));
    core.set(null);
    assertEquals(null, r.notReadyReason(), "the core is ready");
    r.drain();
    assertTrue(r.draining());
    assertTrue(r.notReadyReason().startsWith("draining"));
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
