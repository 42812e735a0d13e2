package dev.causalkv.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.causalkv.cluster.Client.Reply;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Replication across partitions: forwarding, conflict resolution, convergence, the cluster token. */
@Timeout(60)
class ReplicationTest {

  private static JsonObject state(String node) {
    return JsonParser.parseString(Client.send("GET", node, "/admin/state").raw()).getAsJsonObject();
  }

  private static void awaitConverged(TestCluster c) {
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> {
      JsonObject first = state(c.id(0)).getAsJsonObject("keys");
      for (String n : c.ids()) if (!state(n).getAsJsonObject("keys").equals(first)) return false;
      return true;
    });
  }

  @Test
  void writesFlowAroundAPartialPartition() {
    // a generous wait: what is tested is that the write arrives through B, not how fast on a busy machine
    try (TestCluster c = TestCluster.start(3, Map.of("CAUSAL_WAIT_MS", "5000"))) {
      String a = c.id(0), b = c.id(1), cc = c.id(2);
      c.partition(List.of(a), List.of(cc)); // A-C cut, both still reach B
      Client x = new Client();
      assertEquals(200, x.put(a, "k", "from-a").status());
      Reply r = x.get(cc, "k"); // C can only learn it through B
      assertEquals(200, r.status(), r.raw());
      assertEquals("from-a", r.json().get("value").getAsString());
      Client y = new Client();
      assertEquals(200, y.put(cc, "j", "from-c").status());
      assertEquals("from-c", y.get(a, "j").json().get("value").getAsString());
      awaitConverged(c);
    }
  }

  @Test
  void concurrentWritesResolveToTheLaterTimestampEverywhere() throws Exception {
    try (TestCluster c = TestCluster.start(2)) {
      String a = c.id(0), b = c.id(1);
      c.partition(List.of(a), List.of(b));
      assertEquals(200, new Client().put(a, "k", "earlier").status());
      Thread.sleep(20);
      assertEquals(200, new Client().put(b, "k", "later").status());
      c.heal();
      await().atMost(Duration.ofSeconds(10)).until(() ->
          "later".equals(valueOf(new Client().get(a, "k"))) && "later".equals(valueOf(new Client().get(b, "k"))));
      awaitConverged(c);
      // both versions are kept as siblings (neither dominates), the same on both nodes
      assertEquals(2, state(a).getAsJsonObject("keys").getAsJsonObject("k").getAsJsonArray("siblings").size());
      // a write that has seen both replaces both
      Client z = new Client();
      z.get(a, "k");
      assertEquals(201, z.put(a, "k", "merged").status());
      awaitConverged(c);
      assertEquals(1, state(b).getAsJsonObject("keys").getAsJsonObject("k").getAsJsonArray("siblings").size());
      assertEquals("merged", valueOf(new Client().get(b, "k")));
    }
  }

  @Test
  void causallyLaterWriteWinsEvenWithAnEarlierClock() throws Exception {
    try (TestCluster c = TestCluster.start(1)) {
      String a = c.id(0);
      String b = TestCluster.newId();
      c.startNode(b, List.of(a, b), Map.of("CLOCK_SKEW_MS", "-600000")); // b's clock is 10 minutes slow
      assertEquals(200, Client.send("PUT", a, "/view", "ip_port", b).status());
      Client x = new Client();
      assertEquals(200, x.put(a, "k", "first").status());
      assertEquals("first", x.get(b, "k").json().get("value").getAsString()); // waits until b has it
      assertEquals(201, x.put(b, "k", "second").status()); // has seen "first": replaces it despite its older ts
      await().atMost(Duration.ofSeconds(5)).until(() -> "second".equals(valueOf(new Client().get(a, "k"))));
      awaitConverged(c);
    }
  }

  @Test
  void viewChangeDuringAPartitionConvergesAfterHealing() {
    try (TestCluster c = TestCluster.start(3)) {
      String a = c.id(0), b = c.id(1), cc = c.id(2);
      c.partition(List.of(cc), List.of(a, b));
      Reply r = Client.send("DELETE", a, "/view", "ip_port", b);
      assertEquals(200, r.status(), r.raw());
      assertTrue(r.json().has("unreachable"), "C could not acknowledge: " + r.raw());
      c.heal();
      await().atMost(Duration.ofSeconds(10)).until(() ->
          Client.send("GET", cc, "/view").json().get("view").getAsString().split(",").length == 2);
      assertEquals(Client.send("GET", a, "/view").json(), Client.send("GET", cc, "/view").json());
      Client x = new Client();
      assertEquals(200, x.put(cc, "after", "heal").status());
      assertEquals("heal", x.get(a, "after").json().get("value").getAsString());
    }
  }

  @Test
  void clusterTokenGuardsInternalAndAdminEndpoints() throws Exception {
    try (TestCluster c = TestCluster.start(2, Map.of("CLUSTER_TOKEN", "s3cret"))) {
      String a = c.id(0), b = c.id(1);
      Client x = new Client();
      assertEquals(200, x.put(a, "k", "v").status());
      assertEquals("v", x.get(b, "k").json().get("value").getAsString()); // peers carry the token
      assertEquals(401, Client.rawPath("POST", a, "/internal/pull", "{\"from\":\"" + b + "\",\"applied\":{}}").status());
      assertEquals(401, Client.send("GET", a, "/admin/state").status());
      HttpResponse<String> ok = Client.HTTP.send(HttpRequest.newBuilder(URI.create("http://" + a + "/admin/stats"))
          .header("X-Cluster-Token", "s3cret").build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, ok.statusCode());
    }
  }

  private static String valueOf(Reply r) {
    return r.status() == 200 ? r.json().get("value").getAsString() : null;
  }
}
