package dev.causalkv.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tombstone collection wired end to end on RocksDB nodes: pull requests report applied VCs, the
 * node's timer collects, and a key deleted while one replica was partitioned away neither
 * vanishes early nor comes back after the partition heals.
 */
@Timeout(60)
class TombstoneGcClusterTest {

  @TempDir Path tmp;

  private static JsonObject keys(String node) {
    return JsonParser.parseString(Client.send("GET", node, "/admin/state").raw()).getAsJsonObject().getAsJsonObject("keys");
  }

  @Test
  void deleteDuringPartitionIsCollectedOnlyAfterHealAndNeverReturns() throws Exception {
    try (TestCluster c = new TestCluster()) {
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 3; i++) ids.add(TestCluster.newId());
      for (int i = 0; i < 3; i++) c.startNode(ids.get(i), ids, Map.of("DATA_DIR", tmp.resolve("n" + i).toString(), "PULL_HOLD_MS", "500"));
      String a = ids.get(0), b = ids.get(1), cc = ids.get(2);
      Client x = new Client();
      assertEquals(200, x.put(a, "k", "v").status());
      assertEquals(200, x.put(a, "keep", "v").status());
      await().atMost(Duration.ofSeconds(10)).until(() -> keys(cc).has("k") && keys(b).has("k"));

      c.partition(List.of(a, b), List.of(cc));
      assertEquals(200, x.delete(a, "k").status());
      await().atMost(Duration.ofSeconds(10)).until(() -> keys(b).getAsJsonObject("k").get("visible").isJsonNull());
      Thread.sleep(3000); // several collection ticks
      assertTrue(keys(a).has("k"), "tombstone kept while c has not applied it");
      assertTrue(keys(b).has("k"), "tombstone kept while c has not applied it");
      assertEquals("v", keys(cc).getAsJsonObject("k").get("visible").getAsString(), "c is cut off");

      c.heal();
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
          .until(() -> !keys(a).has("k") && !keys(b).has("k") && !keys(cc).has("k"));
      Thread.sleep(1500); // more anti-entropy and collection: nothing comes back
      for (String n : ids) {
        assertTrue(!keys(n).has("k"), n + " shows the deleted key again");
        assertEquals(404, new Client().get(n, "k").status());
        assertTrue(keys(n).has("keep"));
      }
      JsonObject stats = JsonParser.parseString(Client.send("GET", a, "/admin/stats").raw()).getAsJsonObject();
      assertTrue(stats.getAsJsonObject("counters").get("gc.keys_dropped").getAsLong() >= 1, stats.toString());
    }
  }
}
