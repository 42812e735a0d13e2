package dev.causalkv.http;

import com.google.gson.JsonObject;
import dev.causalkv.BuildInfo;
import dev.causalkv.driver.PeerHealth;
import dev.causalkv.protocol.NodeCore;
import dev.causalkv.wire.Json;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * The cluster at a glance: {@code GET /admin/peers} (this node and each peer it pulls from:
 * reachable, last complete pull, how far behind, catching up, the peer's view) and
 * {@code GET /admin/cluster} (the same from every member, gathered by this node, for the status
 * page: a browser may not reach the members' own addresses, this node does). The peers are those
 * the core pulls from, as its last snapshot shows them ({@link PeerHealth}).
 */
final class ClusterStatusApi {

  /** How long the cluster answer waits for each member's own answer. */
  static final long MEMBER_TIMEOUT_MILLIS = 1500;

  private final NodeCore core;
  private final PeerHealth health;
  private final LongSupplier writes;
  private final String token;
  /** Made on first use: most nodes never answer {@code /admin/cluster}, and a client owns a thread. */
  private volatile HttpClient http;

  ClusterStatusApi(NodeCore core, PeerHealth health, LongSupplier writes, String token) {
    this.core = core;
    this.health = health;
    this.writes = writes;
    this.token = token;
  }

  void peers(HttpCall call) {
    call.respond(200, self());
  }

  /** This node's answer of {@code /admin/peers}. */
  private Map<String, Object> self() {
    Map<String, Object> out = new LinkedHashMap<>();
    long now = System.currentTimeMillis();
    out.put("node", core.nodeId());
    out.put("origin", core.origin());
    out.put("version", BuildInfo.version());
    out.put("uptimeSeconds", ManagementFactory.getRuntimeMXBean().getUptime() / 1000);
    out.put("view", String.join(",", core.members()));
    out.put("removed", core.meta().view().isRemoved(core.nodeId()));
    out.put("keys", core.keyCount());
    out.put("ownWrites", core.meta().ownSeq());
    out.put("writesAcknowledged", writes.getAsLong());
    out.put("parked", core.parkedCount());
    String notReady = core.notReady();
    out.put("ready", notReady == null);
    if (notReady != null) out.put("notReady", notReady);
    out.put("timeMillis", now);
    List<Object> peers = new ArrayList<>();
    for (PeerHealth.Peer p : health.snapshot()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("peer", p.peer());
      m.put("state", p.state());
      m.put("reachable", p.reachable());
      boolean never = p.lastSuccessAgeMillis() < 0;
      m.put("lastSuccessfulPullMillis", never ? null : now - p.lastSuccessAgeMillis());
      m.put("lastSuccessfulPullAgeSeconds", never ? null : p.lastSuccessAgeMillis() / 1000.0);
      m.put("behindVersions", p.behindVersions());
      m.put("behindSeconds", p.behindSeconds());
      m.put("catchingUp", p.catchingUp());
      m.put("mode", p.mode());
      m.put("view", String.join(",", p.view()));
      m.put("pulls", p.pulls());
      m.put("failedPulls", p.failures());
      peers.add(m);
    }
    out.put("peers", peers);
    return out;
  }

  /** Every member's {@code /admin/peers}, asked concurrently; a member that does not answer in time is listed as such. */
  void cluster(HttpCall call) {
    List<String> members = core.members();
    List<CompletableFuture<Object>> answers = new ArrayList<>();
    for (String m : members) {
      if (m.equals(core.nodeId())) {
        Map<String, Object> s = self();
        s.put("answered", true);
        answers.add(CompletableFuture.completedFuture(s));
      }
      else answers.add(ask(m));
    }
    CompletableFuture.allOf(answers.toArray(new CompletableFuture<?>[0])).whenComplete((ok, err) -> {
      List<Object> nodes = new ArrayList<>();
      for (CompletableFuture<Object> a : answers) nodes.add(a.join());
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("node", core.nodeId());
      out.put("timeMillis", System.currentTimeMillis());
      out.put("nodes", nodes);
      call.respond(200, out);
    });
  }

  private CompletableFuture<Object> ask(String member) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + member + "/admin/peers"))
        .timeout(Duration.ofMillis(MEMBER_TIMEOUT_MILLIS)).GET();
    if (token != null) b.header("X-Cluster-Token", token);
    return client().sendAsync(b.build(), HttpResponse.BodyHandlers.ofString()).<Object>thenApply(r -> {
      if (r.statusCode() != 200) return unreachable(member, "answered " + r.statusCode());
      JsonObject o = Json.object(r.body());
      o.addProperty("answered", true);
      return o;
    }).exceptionally(e -> unreachable(member, e.getCause() != null ? e.getCause().toString() : e.toString()));
  }

  private HttpClient client() {
    HttpClient c = http;
    if (c == null) {
      synchronized (this) {
        if (http == null) http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
        c = http;
      }
    }
    return c;
  }

  private static Map<String, Object> unreachable(String member, String why) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("node", member);
    m.put("answered", false);
    m.put("error", why);
    return m;
  }
}
