package dev.causalkv.http;

import dev.causalkv.core.NodeMeta;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.Store;
import dev.causalkv.core.Version;
import dev.causalkv.driver.Metrics;
import dev.causalkv.driver.NodeLoop;
import dev.causalkv.protocol.NodeCore;
import dev.causalkv.security.Keyring;
import dev.causalkv.wire.Json;
import com.google.gson.stream.JsonWriter;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code GET /admin/state} (every key's siblings, for checkers) and {@code GET /admin/stats}
 * (counters). Who may call them is decided in HttpEdge: the token, or loopback, members and
 * {@code ADMIN_FROM} without one.
 */
final class AdminApi {

  private final NodeLoop loop;
  private final NodeCore core;
  private final Metrics metrics;
  private final Keyring keyring;

  AdminApi(NodeLoop loop, Metrics metrics, Keyring keyring) {
    this.loop = loop;
    this.core = loop.core();
    this.metrics = metrics;
    this.keyring = keyring;
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

  /**
   * Every key's siblings, streamed as the store scan goes: JSON written a key at a time to the
   * socket (on a worker thread), so the heap holds one key's siblings, not the whole store.
   */
  void state(HttpCall call) {
    if (!call.claim()) return;
    HttpServerExchange ex = call.exchange;
    ex.startBlocking();
    ex.setStatusCode(200);
    ex.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
    try (Store.Scan scan = core.scan();
        JsonWriter w = new JsonWriter(new BufferedWriter(new OutputStreamWriter(ex.getOutputStream(), StandardCharsets.UTF_8), 64 * 1024))) {
      w.setHtmlSafe(false);
      w.setSerializeNulls(true);
      w.beginObject();
      for (Map.Entry<String, Object> e : header().entrySet()) {
        w.name(e.getKey());
        Json.GSON.toJson(Json.GSON.toJsonTree(e.getValue()), w);
      }
      w.name("keys").beginObject();
      while (scan.hasNext()) {
        Siblings s = scan.next();
        Version visible = s.visible();
        if (visible == null) continue;
        w.name(visible.key()).beginObject();
        w.name("visible").value(visible.value());
        w.name("siblings").beginArray();
        for (Version v : s.versions()) {
          w.beginObject();
          w.name("origin").value(v.dot().origin());
          w.name("seq").value(v.dot().seq());
          w.name("ts").value(v.ts());
          w.name("tombstone").value(v.isTombstone());
          w.name("value").value(v.value());
          w.name("vc").beginObject();
          for (Map.Entry<String, Long> c : v.vc().asMap().entrySet()) w.name(c.getKey()).value(c.getValue());
          w.endObject();
          w.endObject();
        }
        w.endArray();
        w.endObject();
      }
      w.endObject();
      w.endObject();
    } catch (IOException | RuntimeException e) {
      // the status is already out: all a broken-off answer can do is end (its JSON is then incomplete)
      metrics.inc("admin.state_failed");
      ex.endExchange();
    }
  }

  /**
   * How many payload seal keys this node knows, and the members whose key it has not learnt yet
   * (it has pulled neither from them nor from a member that had): payloads they sealed wait here,
   * then answer "Payload out of date". Never the keys themselves.
   */
  private Map<String, Object> sealKeys() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("shared", keyring.isShared());
    m.put("known", keyring.size());
    java.util.List<String> missing = new java.util.ArrayList<>();
    if (!keyring.isShared()) {
      java.util.Set<String> have = keyring.nodes();
      for (String member : core.members()) if (!member.equals(core.nodeId()) && !have.contains(member)) missing.add(member);
    }
    m.put("missing", missing);
    return m;
  }

  void stats(HttpCall call) {
    Map<String, Object> out = header();
    out.put("keys", core.keyCount());
    out.put("parked", core.parkedCount());
    String notReady = core.notReady();
    out.put("ready", notReady == null);
    if (notReady != null) out.put("notReady", notReady);
    out.put("sealKeys", sealKeys());
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
