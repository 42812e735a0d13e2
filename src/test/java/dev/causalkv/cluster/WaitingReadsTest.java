package dev.causalkv.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import dev.causalkv.cluster.Client.Reply;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Reads that must wait hold no thread: a thousand of them do not stop a node with four workers. */
@Timeout(60)
class WaitingReadsTest {

  @Test
  void thousandsOfWaitingReadsDoNotStarveTheNode() {
    try (TestCluster c = TestCluster.start(2, Map.of("WORKER_THREADS", "4", "CAUSAL_WAIT_MS", "3000"))) {
      String a = c.id(0), b = c.id(1);
      c.partition(List.of(a), List.of(b));
      Client x = new Client();
      assertEquals(200, x.put(b, "k", "v").status());
      String fromB = x.payload;

      List<CompletableFuture<Reply>> waiting = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        waiting.add(Client.sendAsync("GET", a, "/keyValue-store/k", "payload", fromB));
      }
      // While they wait, the node answers other clients at once.
      long t0 = System.nanoTime();
      Client other = new Client();
      for (int i = 0; i < 20; i++) assertEquals(200, other.put(a, "free" + i, "x").status());
      long millis = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(millis < 2500, "20 writes took " + millis + " ms while 1000 reads waited");
      int parked = JsonParser.parseString(Client.send("GET", a, "/admin/stats").raw())
          .getAsJsonObject().get("parked").getAsInt();
      assertTrue(parked > 0, "reads are parked, not answered: " + parked);

      c.heal();
      int ok = 0;
      for (CompletableFuture<Reply> f : waiting) {
        Reply r = f.join();
        assertTrue(r.status() == 200 || (r.status() == 400 && "Payload out of date".equals(r.msg())), r.raw());
        if (r.status() == 200) {
          ok++;
          assertEquals("v", r.json().get("value").getAsString());
        }
      }
      assertTrue(ok > 0, "after healing, the waiting reads are answered with the value");
    }
  }

  @Test
  void readsWokenByACoveringWriteNeverAnswerTheSupersededValue() throws Exception {
    try (TestCluster c = TestCluster.start(2, Map.of("CAUSAL_WAIT_MS", "5000"))) {
      String a = c.id(0), b = c.id(1);
      for (int round = 0; round < 5; round++) {
        String k = "race" + round;
        Client w = new Client();
        assertEquals(200, w.put(a, k, "old").status());
        assertEquals("old", w.get(b, k).json().get("value").getAsString());
        c.partition(List.of(a), List.of(b));
        assertEquals(201, w.put(b, k, "new").status()); // replaces "old"; a cannot see it
        List<CompletableFuture<Reply>> readers = new ArrayList<>();
        for (int i = 0; i < 50; i++) readers.add(Client.sendAsync("GET", a, "/keyValue-store/" + k, "payload", w.payload));
        List<CompletableFuture<Reply>> noise = new ArrayList<>();
        for (int i = 0; i < 50; i++) noise.add(Client.sendAsync("PUT", a, "/keyValue-store/noise" + (i % 5), "val", "x"));
        Thread.sleep(200);
        // a write at a that has seen "new" (through the payload) covers the parked reads
        Client local = new Client();
        local.payload = w.payload;
        assertEquals(201, local.put(a, k, "local").status());
        for (CompletableFuture<Reply> f : readers) {
          Reply r = f.join();
          assertEquals(200, r.status(), r.raw());
          assertEquals("local", r.json().get("value").getAsString(), "never the superseded value: " + r.raw());
        }
        noise.forEach(CompletableFuture::join);
        c.heal();
      }
    }
  }

  @Test
  void shutdownAnswersParkedReadsDefinitely() {
    try (TestCluster c = TestCluster.start(2, Map.of("CAUSAL_WAIT_MS", "20000"))) {
      String a = c.id(0), b = c.id(1);
      c.partition(List.of(a), List.of(b));
      Client x = new Client();
      assertEquals(200, x.put(b, "k", "v").status());
      List<CompletableFuture<Reply>> waiting = new ArrayList<>();
      for (int i = 0; i < 20; i++) waiting.add(Client.sendAsync("GET", a, "/keyValue-store/k", "payload", x.payload));
      await().atMost(java.time.Duration.ofSeconds(5)).until(() -> c.node(a).core() != null
          && JsonParser.parseString(Client.send("GET", a, "/admin/stats").raw()).getAsJsonObject().get("parked").getAsInt() >= 20);
      c.kill(a); // Node.close(), as on SIGTERM
      for (CompletableFuture<Reply> f : waiting) {
        Reply r = f.join();
        assertEquals(400, r.status(), r.raw());
        assertEquals("Payload out of date", r.msg());
      }
    }
  }
}
