package dev.causalkv.http;

import dev.causalkv.core.Replica;
import dev.causalkv.driver.Readiness;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code GET /health} (the process answers) and {@code GET /ready} (caught up, not draining), for probes. */
final class HealthApi {

  private final Replica replica;
  private final Readiness readiness;

  HealthApi(Replica replica, Readiness readiness) {
    this.replica = replica;
    this.readiness = readiness;
  }

  void health(HttpCall call) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("status", "up");
    out.put("node", replica.nodeId());
    out.put("draining", readiness.draining());
    call.respond(200, out);
  }

  void ready(HttpCall call) {
    String reason = readiness.notReadyReason(replica.peers());
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("ready", reason == null);
    out.put("node", replica.nodeId());
    if (reason != null) out.put("reason", reason);
    call.respond(reason == null ? 200 : 503, out);
  }
}
