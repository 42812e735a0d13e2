package dev.causalkv.http;

import dev.causalkv.driver.Readiness;
import dev.causalkv.protocol.NodeCore;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code GET /health} (the process answers, and its storage has not failed) and {@code GET /ready}
 * (caught up, not reconciling, not being removed, not draining), for probes.
 */
final class HealthApi {

  private final NodeCore core;
  private final Readiness readiness;

  HealthApi(NodeCore core, Readiness readiness) {
    this.core = core;
    this.readiness = readiness;
  }

  void health(HttpCall call) {
    Map<String, Object> out = new LinkedHashMap<>();
    boolean failed = core.isFailed();
    out.put("status", failed ? "failed" : "up");
    out.put("node", core.nodeId());
    out.put("draining", readiness.draining());
    if (failed) out.put("reason", core.notReady());
    call.respond(failed ? 503 : 200, out);
  }

  void ready(HttpCall call) {
    String reason = readiness.notReadyReason();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("ready", reason == null);
    out.put("node", core.nodeId());
    if (reason != null) out.put("reason", reason);
    call.respond(reason == null ? 200 : 503, out);
  }
}
