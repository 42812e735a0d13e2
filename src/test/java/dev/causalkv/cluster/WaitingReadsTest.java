package dev.causalkv.cluster;

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
}
