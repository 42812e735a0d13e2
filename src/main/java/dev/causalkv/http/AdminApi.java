package dev.causalkv.http;

import dev.causalkv.core.NodeMeta;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.Store;
import dev.causalkv.core.Version;
import dev.causalkv.driver.Metrics;
import dev.causalkv.driver.NodeLoop;
import dev.causalkv.protocol.NodeCore;
import dev.causalkv.wire.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code GET /admin/state} (every key's siblings, for checkers) and {@code GET /admin/stats} (counters). */
final class AdminApi {

  private final NodeLoop loop;
  private final NodeCore core;
  private final Metrics metrics;

  AdminApi(NodeLoop loop, Metrics metrics) {
    this.loop = loop;
    this.core = loop.core();
    this.metrics = metrics;
  }

  /** Who this node is and how far it has got: the head of both answers. */
  private Map<String, Object> header() {
    NodeMeta meta = core.meta();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("node", core.nodeId());
    out.put("origin", meta.origin());
    out.put("ownSeq", meta.ownSeq());
    out.put("applied", Json.vcMap(meta.applied()));
    out.put("view", String.join(",", core.members()));
    return out;
  }

  void state(HttpCall call) {
    Map<String, Object> out = header();
    Map<String, Object> keys = new LinkedHashMap<>();
    try (Store.Scan scan = core.scan()) {
      while (scan.hasNext()) {
        Siblings s = scan.next();
        Version visible = s.visible();
        if (visible == null) continue;
        List<Object> sib = new ArrayList<>();
        for (Version v : s.versions()) {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("origin", v.dot().origin());
          m.put("seq", v.dot().seq());
          m.put("ts", v.ts());
          m.put("tombstone", v.isTombstone());
          m.put("value", v.value());
          m.put("vc", Json.vcMap(v.vc()));
          sib.add(m);
        }
        Map<String, Object> k = new LinkedHashMap<>();
        k.put("visible", visible.value());
        k.put("siblings", sib);
        keys.put(visible.key(), k);
      }
    }
    out.put("keys", keys);
    call.respond(200, out);
  }

  void stats(HttpCall call) {
    Map<String, Object> out = header();
    out.put("keys", core.keyCount());
    out.put("parked", core.parkedCount());
    String notReady = core.notReady();
    out.put("ready", notReady == null);
    if (notReady != null) out.put("notReady", notReady);
    out.put("counters", metrics.snapshot());
    NodeLoop.LockStats l = loop.lockStats();
    Map<String, Object> lock = new LinkedHashMap<>();
    lock.put("steps", l.steps());
    lock.put("waitNanos", l.waitNanos());
    lock.put("stepNanos", l.stepNanos());
    lock.put("commitNanos", l.commitNanos());
    lock.put("advanceNanos", l.advanceNanos());
    out.put("loop", lock);
    call.respond(200, out);
  }
}
