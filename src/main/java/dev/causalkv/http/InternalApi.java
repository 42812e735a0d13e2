package dev.causalkv.http;

import com.google.gson.JsonObject;
import dev.causalkv.core.PeerLink;
import dev.causalkv.core.Replica;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.ViewState;
import dev.causalkv.driver.Metrics;
import dev.causalkv.driver.Waiters;
import dev.causalkv.wire.Json;
import io.undertow.util.Headers;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The peer endpoints: {@code POST /internal/pull} answers a long-poll with the complete delta
 * (DESIGN.md §5), streamed as one JSON object per line and closed by a marks line;
 * {@code PUT /internal/view} merges a pushed view. Only members (and token holders) are served.
 */
final class InternalApi {

  private static final Logger LOG = Logger.getLogger(InternalApi.class.getName());
  static final long MAX_HOLD_MILLIS = 30_000;

  private final Replica replica;
  private final PeerLink peers;
  private final Waiters waiters;
  private final Executor workers;
  private final Metrics metrics;
  private final long drainMillis;

  InternalApi(Replica replica, PeerLink peers, Waiters waiters, Executor workers, Metrics metrics, long drainMillis) {
    this.replica = replica;
    this.peers = peers;
    this.waiters = waiters;
    this.workers = workers;
    this.metrics = metrics;
    this.drainMillis = drainMillis;
  }

  void pull(HttpCall call) {
    JsonObject req = body(call);
    String from = string(req, "from");
    VectorClock since;
    VectorClock seen;
    boolean ownOnly;
    ViewState view;
    long waitMillis;
    try {
      since = Json.decodeVc(req.get("applied"));
      seen = req.has("seen") ? Json.decodeVc(req.get("seen")) : VectorClock.EMPTY;
      ownOnly = req.has("mode") && "own".equals(req.get("mode").getAsString());
      view = req.has("view") ? Json.decodeView(req.get("view")) : ViewState.EMPTY;
      waitMillis = req.has("waitMs") ? Math.max(0, Math.min(MAX_HOLD_MILLIS, req.get("waitMs").getAsLong())) : 0;
    } catch (RuntimeException e) {
      throw new HttpCall.BadRequest(400, HttpCall.error("Malformed pull request: " + e.getMessage()));
    }
    if (!replica.admitPull(from, view)) {
      metrics.inc("pull.refused");
      JsonObject out = new JsonObject();
      out.addProperty("error", "not a member");
      out.add("view", Json.encode(replica.view()));
      call.respond(403, out);
      return;
    }
    // (admitPull merged the puller's view.) The puller's applied was durable when it sent it
    // (PeerTransport waits): a safe stability report.
    replica.notePeerApplied(from, since, view);
    waiters.park(new Waiters.Waiter() {
      @Override
      protected String kind() {
        return "pull";
      }

      @Override
      protected boolean ready() {
        return ownOnly ? replica.hasOwnNewsFor(since) : replica.hasNewsFor(since, seen);
      }

      @Override
      protected void onReady() {
        answer(call, since, ownOnly);
      }

      @Override
      protected void onTimeout() {
        answer(call, since, ownOnly);
      }
    }, waitMillis);
  }

  /** Streams the answer from one snapshot, once everything in it is durable (a dot is never served twice). */
  private void answer(HttpCall call, VectorClock since, boolean ownOnly) {
    if (!call.claim()) return;
    Replica.PullAnswer a = ownOnly ? replica.answerOwnPull(since) : replica.answerPull(since);
    replica.durable().whenCompleteAsync((ok, err) -> stream(call, a), workers);
  }

  private void stream(HttpCall call, Replica.PullAnswer a) {
    long count = 0;
    long bytes = 0;
    try (Store.Delta delta = a.delta()) {
      call.exchange.startBlocking();
      call.exchange.setStatusCode(200);
      call.exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/x-ndjson");
      OutputStream out = new BufferedOutputStream(call.exchange.getOutputStream(), 64 * 1024);
      JsonObject head = new JsonObject();
      head.add("view", Json.encode(a.view()));
      head.addProperty("keys", replica.keyCount()); // lets a catching-up puller report progress
      bytes += line(out, head);
      while (delta.hasNext()) {
        JsonObject v = new JsonObject();
        v.add("ver", Json.encode(delta.next()));
        bytes += line(out, v);
        count++;
      }
      JsonObject end = new JsonObject();
      end.add("marks", Json.encode(a.marks()));
      end.add("applied", Json.encode(a.peerApplied()));
      end.addProperty("count", count);
      bytes += line(out, end);
      out.close();
      metrics.inc("pull.served");
      metrics.add("pull.versions_sent", count);
      metrics.add("pull.bytes_sent", bytes);
    } catch (IOException | RuntimeException e) {
      metrics.inc("pull.serve_failed");
      LOG.log(Level.FINE, "pull answer broke off", e);
      call.exchange.endExchange();
    }
  }

  private static long line(OutputStream out, JsonObject o) throws IOException {
    byte[] b = (o.toString() + "\n").getBytes(StandardCharsets.UTF_8);
    out.write(b);
    return b.length;
  }

  void pushView(HttpCall call) {
    JsonObject req = body(call);
    String from = string(req, "from");
    ViewState view;
    try {
      view = Json.decodeView(req.get("view"));
    } catch (RuntimeException e) {
      throw new HttpCall.BadRequest(400, HttpCall.error("Malformed view push: " + e.getMessage()));
    }
    boolean aboutMe = view.entries().containsKey(replica.nodeId());
    if (!replica.members().contains(from) && !aboutMe) {
      call.respond(403, HttpCall.error("not a member"));
      return;
    }
    // Members learning of a removal drain the leaving node first, so its writes are not stranded.
    List<String> current = replica.members();
    for (String m : current) {
      if (!m.equals(replica.nodeId()) && view.isRemoved(m) && !replica.view().isRemoved(m)) {
        peers.drain(m, drainMillis);
      }
    }
    replica.mergeView(view);
    call.respond(200, Map.of("ok", true));
  }

  private static JsonObject body(HttpCall call) {
    try {
      return Json.object(call.bodyText());
    } catch (Json.DecodeException e) {
      throw new HttpCall.BadRequest(400, HttpCall.error("Malformed internal message: " + e.getMessage()));
    }
  }

  private static String string(JsonObject o, String field) {
    if (!o.has(field) || !o.get(field).isJsonPrimitive()) {
      throw new HttpCall.BadRequest(400, HttpCall.error("Malformed internal message: missing " + field));
    }
    return o.get(field).getAsString();
  }
}
