package dev.causalkv.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.causalkv.cluster.Client.Reply;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The operator endpoints on a real 3-node cluster: {@code /version}, {@code /admin/peers},
 * {@code /admin/cluster}, {@code /admin/digest}, {@code /admin/key/<key>}, {@code /payload/merge},
 * {@code /status}, the {@code X-Causal-Payload} header and the trailing newline of answers.
 */
@Timeout(90)
class OpsEndpointsTest {

  static HttpResponse<String> raw(String method, String node, String path, String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + node + path))
        .timeout(Duration.ofSeconds(20))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .method(method, HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i + 1 < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
    try {
      return Client.HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static JsonObject get(String node, String path) {
    Reply r = Client.send("GET", node, path);
    assertEquals(200, r.status(), r.raw());
    return r.json();
  }

  static JsonObject peerEntry(JsonObject peers, String peer) {
    for (JsonElement e : peers.getAsJsonArray("peers")) {
      if (e.getAsJsonObject().get("peer").getAsString().equals(peer)) return e.getAsJsonObject();
    }
    throw new AssertionError(peer + " not listed in " + peers);
  }

  @Test
  void versionAnswersTheBuildVersionAndEveryAnswerEndsWithANewline() {
    try (TestCluster c = TestCluster.start(1)) {
      String n = c.id(0);
      JsonObject v = get(n, "/version");
      assertNotNull(v.get("version").getAsString());
      assertEquals(n, v.get("node").getAsString());
      for (String path : List.of("/version", "/view", "/keyValue-store/nope", "/no/such/path", "/admin/stats")) {
        HttpResponse<String> r = raw("GET", n, path, "");
        assertTrue(r.body().endsWith("}\n"), path + " answer ends with a newline: " + r.body());
      }
      assertTrue(raw("PUT", n, "/keyValue-store/k", "val=v").body().endsWith("}\n"));
      assertEquals(405, raw("POST", n, "/version", "").statusCode());
      assertEquals(405, raw("DELETE", n, "/metrics", "").statusCode());
    }
  }

  @Test
  void payloadTravelsInTheHeaderBothWays() {
    try (TestCluster c = TestCluster.start(2, Map.of("CAUSAL_WAIT_MS", "300"))) {
      String a = c.id(0), b = c.id(1);
      HttpResponse<String> put = raw("PUT", a, "/keyValue-store/h", "val=1");
      String p = put.headers().firstValue("X-Causal-Payload").orElseThrow();
      // the header holds the same payload as the body, in the form a client sends back
      assertEquals(Client.send("GET", a, "/keyValue-store/h", "payload", p).status(), 200);
      // b holds the first write before the cut, so the empty-payload read below has a value to serve
      await().atMost(Duration.ofSeconds(20)).until(
          () -> Client.send("GET", b, "/keyValue-store/h", "payload", p).status() == 200);
      c.partition(List.of(a), List.of(b));
      HttpResponse<String> put2 = raw("PUT", a, "/keyValue-store/h", "val=2", "X-Causal-Payload", p);
      assertEquals(201, put2.statusCode(), put2.body());
      String p2 = put2.headers().firstValue("X-Causal-Payload").orElseThrow();
      // b has not got the second write: a read carrying p2 in the header must not be served from b...
      HttpResponse<String> stale = raw("GET", b, "/keyValue-store/h", "", "X-Causal-Payload", p2);
      assertEquals(400, stale.statusCode(), stale.body());
      assertTrue(stale.body().contains("Payload out of date"), stale.body());
      // ...while a's answers it, with the new value
      HttpResponse<String> fresh = raw("GET", a, "/keyValue-store/h", "", "X-Causal-Payload", p2);
      assertEquals(200, fresh.statusCode());
      assertTrue(fresh.body().contains("\"value\":\"2\""), fresh.body());
      // a payload parameter wins over the header
      HttpResponse<String> both = raw("GET", b, "/keyValue-store/h", "payload=", "X-Causal-Payload", p2);
      assertEquals(200, both.statusCode(), both.body());
      assertTrue(both.body().contains("\"value\":\"1\""), both.body());
      // a broken header payload is refused like a broken parameter
      HttpResponse<String> bad = raw("GET", a, "/keyValue-store/h", "", "X-Causal-Payload", "{\"vc\":{\"x\":1},\"sig\":\"00\"}");
      assertEquals(400, bad.statusCode());
      assertTrue(bad.body().contains("Payload is not valid"), bad.body());
    }
  }

  @Test
  void payloadMergeReturnsOnePayloadCoveringBoth() {
    try (TestCluster c = TestCluster.start(2, Map.of("CAUSAL_WAIT_MS", "300"))) {
      String a = c.id(0), b = c.id(1);
      c.partition(List.of(a), List.of(b));
      Client alice = new Client();
      Client bob = new Client();
      assertEquals(200, alice.put(a, "x", "from-a").status());
      assertEquals(200, bob.put(b, "y", "from-b").status());
      Reply merged = Client.send("POST", a, "/payload/merge", "a", alice.payload, "b", bob.payload);
      assertEquals(200, merged.status(), merged.raw());
      Client carol = new Client();
      carol.payload = merged.payload();
      // carol has seen both writes: neither node can serve her both keys while they are cut
      assertEquals("Payload out of date", carol.get(a, "y").msg());
      carol.payload = merged.payload();
      assertEquals("Payload out of date", carol.get(b, "x").msg());
      c.heal();
      carol.payload = merged.payload();
      await().atMost(Duration.ofSeconds(20)).until(() -> carol.get(a, "y").status() == 200);
      assertEquals(200, carol.get(b, "x").status());

      Reply missing = Client.send("POST", a, "/payload/merge", "a", alice.payload);
      assertEquals(400, missing.status());
      Reply forged = Client.send("POST", a, "/payload/merge", "a", alice.payload, "b", "{\"vc\":{\"z\":9},\"sig\":\"ab\"}");
      assertEquals(400, forged.status());
      assertEquals("Payload is not valid", forged.msg());
      assertEquals(405, Client.send("GET", a, "/payload/merge").status());
      // two empty payloads merge to an empty one, which any node serves
      Reply empty = Client.send("POST", a, "/payload/merge", "a", "", "b", "{}");
      assertEquals(200, empty.status(), empty.raw());
    }
  }

  @Test
  void peersShowReachabilityAndLagAndTheClusterAnswerGathersEveryNode() {
    try (TestCluster c = TestCluster.start(3, Map.of("CAUSAL_WAIT_MS", "300"))) {
      String n1 = c.id(0), n2 = c.id(1), n3 = c.id(2);
      await().atMost(Duration.ofSeconds(20)).until(() -> {
        JsonObject p = get(n1, "/admin/peers");
        return peerEntry(p, n2).get("reachable").getAsBoolean() && peerEntry(p, n3).get("reachable").getAsBoolean()
            && !peerEntry(p, n2).get("catchingUp").getAsBoolean();
      });
      JsonObject p1 = get(n1, "/admin/peers");
      assertEquals(n1, p1.get("node").getAsString());
      assertEquals(2, p1.getAsJsonArray("peers").size());
      JsonObject e2 = peerEntry(p1, n2);
      assertEquals("up", e2.get("state").getAsString());
      assertEquals(0, e2.get("behindVersions").getAsLong());
      assertEquals(0.0, e2.get("behindSeconds").getAsDouble());
      assertTrue(e2.get("lastSuccessfulPullMillis").getAsLong() > 0);
      assertEquals(3, e2.get("view").getAsString().split(",").length, "the peer's own view, from its answers");

      new Client().put(n1, "k", "v");
      c.partition(List.of(n3), List.of(n1, n2));
      await().atMost(Duration.ofSeconds(20)).until(() -> {
        JsonObject p = get(n3, "/admin/peers");
        return !peerEntry(p, n1).get("reachable").getAsBoolean() && !peerEntry(p, n2).get("reachable").getAsBoolean();
      });
      JsonObject p3 = get(n3, "/admin/peers");
      assertEquals("down", peerEntry(p3, n1).get("state").getAsString());
      await().atMost(Duration.ofSeconds(10)).until(
          () -> peerEntry(get(n3, "/admin/peers"), n1).get("behindSeconds").getAsDouble() > 0.5);
      assertTrue(peerEntry(get(n1, "/admin/peers"), n2).get("reachable").getAsBoolean(), "n1-n2 is not cut");

      // the cluster answer: every node's own answer, gathered by the node asked
      JsonObject cl = get(n2, "/admin/cluster");
      JsonArray nodes = cl.getAsJsonArray("nodes");
      assertEquals(3, nodes.size());
      for (JsonElement e : nodes) {
        JsonObject n = e.getAsJsonObject();
        assertTrue(n.get("answered").getAsBoolean(), n.toString()); // the cut is between pullers, not to admin calls
      }
      JsonObject fromN3 = byNode(nodes, n3);
      assertFalse(peerEntry(fromN3, n1).get("reachable").getAsBoolean());

      c.heal();
      await().atMost(Duration.ofSeconds(20)).until(() -> {
        JsonObject p = get(n3, "/admin/peers");
        return peerEntry(p, n1).get("reachable").getAsBoolean() && peerEntry(p, n1).get("behindSeconds").getAsDouble() == 0.0;
      });

      // a member that does not answer is listed as such
      c.kill(n3);
      JsonObject afterKill = get(n1, "/admin/cluster");
      JsonObject dead = byNode(afterKill.getAsJsonArray("nodes"), n3);
      assertFalse(dead.get("answered").getAsBoolean());
      assertNotNull(dead.get("error").getAsString());
    }
  }

  static JsonObject byNode(JsonArray nodes, String id) {
    for (JsonElement e : nodes) if (e.getAsJsonObject().get("node").getAsString().equals(id)) return e.getAsJsonObject();
    throw new AssertionError(id + " not in " + nodes);
  }

  @Test
  void digestsAgreeIffTheVisibleStatesAgree() {
    try (TestCluster c = TestCluster.start(3)) {
      String n1 = c.id(0), n2 = c.id(1), n3 = c.id(2);
      Client w = new Client();
      for (int i = 0; i < 50; i++) w.put(c.id(i % 3), "key" + i, "value" + i);
      w.delete(n1, "key7");
      await().atMost(Duration.ofSeconds(20)).until(() -> sameDigest(c));
      JsonObject d = get(n1, "/admin/digest");
      assertEquals(49, d.get("keys").getAsLong());
      assertEquals(64, d.get("digest").getAsString().length());

      c.partition(List.of(n3), List.of(n1, n2));
      w.put(n1, "key3", "changed");
      await().atMost(Duration.ofSeconds(10)).until(
          () -> get(n2, "/admin/digest").get("digest").equals(get(n1, "/admin/digest").get("digest")));
      assertNotEquals(get(n1, "/admin/digest").get("digest"), get(n3, "/admin/digest").get("digest"),
          "a different value of one key, a different digest");
      assertEquals(get(n1, "/admin/digest").get("keys"), get(n3, "/admin/digest").get("keys"));
      c.heal();
      await().atMost(Duration.ofSeconds(20)).until(() -> sameDigest(c));
      // writing back the value a key had changes the digest back: it depends on the visible state only
      String before = get(n1, "/admin/digest").get("digest").getAsString();
      w.put(n1, "key3", "other");
      assertNotEquals(before, get(n1, "/admin/digest").get("digest").getAsString());
      w.put(n1, "key3", "changed");
      assertEquals(before, get(n1, "/admin/digest").get("digest").getAsString());
    }
  }

  private static boolean sameDigest(TestCluster c) {
    String d = null;
    for (String id : c.ids()) {
      String x = get(id, "/admin/digest").get("digest").getAsString();
      if (d != null && !d.equals(x)) return false;
      d = x;
    }
    return true;
  }

  @Test
  void keyInspectionListsConcurrentSiblingsAndSaysWhichIsVisibleAndWhy() throws Exception {
    try (TestCluster c = TestCluster.start(2)) {
      String a = c.id(0), b = c.id(1);
      c.partition(List.of(a), List.of(b));
      new Client().put(a, "color/x", "red");
      Thread.sleep(5); // a later timestamp on b: b's write wins
      new Client().put(b, "color/x", "blue");
      c.heal();
      await().atMost(Duration.ofSeconds(20)).until(
          () -> get(a, "/admin/key/color%2Fx").getAsJsonArray("siblings").size() == 2
              && get(b, "/admin/key/color%2Fx").getAsJsonArray("siblings").size() == 2);
      JsonObject k = get(a, "/admin/key/color%2Fx");
      assertEquals("color/x", k.get("key").getAsString());
      assertTrue(k.get("exists").getAsBoolean());
      JsonArray s = k.getAsJsonArray("siblings");
      JsonObject first = s.get(0).getAsJsonObject(), second = s.get(1).getAsJsonObject();
      assertTrue(first.get("visible").getAsBoolean());
      assertFalse(second.get("visible").getAsBoolean());
      assertEquals("blue", first.get("value").getAsString());
      assertTrue(first.get("ts").getAsLong() > second.get("ts").getAsLong());
      assertEquals(first.get("dot").getAsString(), k.get("visibleDot").getAsString());
      assertTrue(second.get("why").getAsString().contains("older"), second.toString());
      assertTrue(first.getAsJsonObject("vc").size() >= 1);
      assertTrue(k.get("rule").getAsString().contains("(ts, origin, seq)"));
      // both nodes show the same siblings and pick the same one
      assertEquals(k.get("siblings"), get(b, "/admin/key/color%2Fx").get("siblings"));
      assertEquals(k.get("visibleDot"), get(b, "/admin/key/color%2Fx").get("visibleDot"));
      // the client's read agrees with the inspection
      assertEquals("blue", new Client().get(a, "color%2Fx").json().get("value").getAsString());

      JsonObject none = get(a, "/admin/key/never-written");
      assertFalse(none.get("exists").getAsBoolean());
      assertEquals(0, none.getAsJsonArray("siblings").size());
      assertEquals(400, Client.send("GET", a, "/admin/key/" + "k".repeat(201)).status());
      assertEquals(404, Client.send("GET", a, "/admin/nothing").status());
    }
  }

  @Test
  void withAClusterTokenTheClusterAnswerCarriesItToEveryMember() {
    try (TestCluster c = TestCluster.start(2, Map.of("CLUSTER_TOKEN", "s3cret"))) {
      String a = c.id(0);
      assertEquals(401, raw("GET", a, "/admin/cluster", "").statusCode());
      HttpResponse<String> r = raw("GET", a, "/admin/cluster", "", "X-Cluster-Token", "s3cret");
      assertEquals(200, r.statusCode(), r.body());
      for (JsonElement e : com.google.gson.JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonArray("nodes")) {
        assertTrue(e.getAsJsonObject().get("answered").getAsBoolean(), e.toString());
      }
    }
  }

  @Test
  void statusPageIsOneSelfContainedHtmlPage() {
    try (TestCluster c = TestCluster.start(1)) {
      HttpResponse<String> r = raw("GET", c.id(0), "/status", "");
      assertEquals(200, r.statusCode());
      assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
      String html = r.body();
      assertTrue(html.startsWith("<!doctype html>"));
      assertTrue(html.contains("/admin/cluster"), "it polls the cluster answer");
      for (String external : List.of("src=\"http", "href=\"http", "src=\"//", "href=\"//", "@import", "url(")) {
        assertFalse(html.contains(external), "no external asset: " + external);
      }
    }
  }
}
