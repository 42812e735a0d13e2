package dev.causalkv.http;

import com.google.gson.JsonObject;
import dev.causalkv.core.Store;
import dev.causalkv.driver.Metrics;
import dev.causalkv.driver.NodeLoop;
import dev.causalkv.driver.Requests;
import dev.causalkv.protocol.Event;
import dev.causalkv.protocol.PullRequest;
import dev.causalkv.protocol.Reply;
import dev.causalkv.wire.Json;
import dev.causalkv.wire.PeerCodec;
import dev.causalkv.wire.PullStreamCodec;
import io.undertow.util.Headers;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The peer endpoints: {@code POST /internal/pull} (a long-poll answered with a streamed answer,
 * docs/design.md §5), {@code PUT /internal/view} (a pushed view) and
 * {@code POST /internal/view-change} (a view change a leaving member hands over). Requests become
 * events for the core; its replies go back on the wire.
 */
final class InternalApi {

  private static final Logger LOG = Logger.getLogger(InternalApi.class.getName());

  private final NodeLoop loop;
  private final Requests requests;
  private final Executor workers;
  private final Metrics metrics;

  InternalApi(NodeLoop loop, Requests requests, Executor workers, Metrics metrics) {
    this.loop = loop;
    this.requests = requests;
    this.workers = workers;
    this.metrics = metrics;
  }

  void pull(HttpCall call) {
    PullRequest req;
    try {
      req = PeerCodec.decodePullRequest(call.bodyText(), dev.causalkv.protocol.NodeCore.MAX_HOLD_MILLIS);
    } catch (Json.DecodeException e) {
      throw new HttpCall.BadRequest(400, HttpCall.error("Malformed pull request: " + e.getMessage()));
    }
    long id = requests.register(r -> answerPull(call, r));
    loop.step(new Event.PullArrived(id, req));
  }

  private void answerPull(HttpCall call, Reply r) {
    if (r instanceof Reply.Pull p) {
      try {
        // Streaming blocks on the socket: a worker thread, never an IO thread.
        workers.execute(() -> stream(call, p.answer()));
      } catch (RejectedExecutionException busy) {
        p.answer().delta().close();
        metrics.inc("pull.shed");
        call.respond(503, HttpCall.error("Node overloaded, retry"));
      }
    } else if (r instanceof Reply.PullRefusal refusal) {
      JsonObject out = new JsonObject();
      out.addProperty("error", "not a member");
      out.add("view", Json.encode(refusal.view()));
      call.respond(403, out);
    } else if (r instanceof Reply.Unavailable u) {
      call.respond(503, HttpCall.error(u.reason()));
    }
  }

  private void stream(HttpCall call, Reply.PullAnswer a) {
    long count = 0;
    long bytes = 0;
    try (Store.Delta delta = a.delta()) {
      if (!call.claim()) return;
      call.exchange.startBlocking();
      call.exchange.setStatusCode(200);
      call.exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/x-ndjson");
      OutputStream out = new BufferedOutputStream(call.exchange.getOutputStream(), 64 * 1024);
      bytes += write(out, PullStreamCodec.head(a.view(), a.marks(), loop.core().keyCount())); // keys: for catch-up progress
      while (delta.hasNext()) {
        bytes += write(out, PullStreamCodec.version(delta.next()));
        count++;
      }
      bytes += write(out, PullStreamCodec.end(a.marks(), a.peerApplied(), count));
      out.close();
      metrics.add("pull.versions_sent", count);
      metrics.add("pull.bytes_sent", bytes);
    } catch (IOException | RuntimeException e) {
      metrics.inc("pull.serve_failed");
      LOG.log(Level.FINE, "pull answer broke off", e);
      call.exchange.endExchange();
    }
  }

  private static long write(OutputStream out, byte[] line) throws IOException {
    out.write(line);
    return line.length;
  }

  void pushView(HttpCall call) {
    PeerCodec.Push push;
    try {
      push = PeerCodec.decodePush(call.bodyText());
    } catch (Json.DecodeException e) {
      throw new HttpCall.BadRequest(400, HttpCall.error("Malformed view push: " + e.getMessage()));
    }
    long id = requests.register(r -> {
      if (r instanceof Reply.ViewPushed v && v.accepted()) call.respond(200, Map.of("ok", true));
      else if (r instanceof Reply.Unavailable u) call.respond(503, HttpCall.error(u.reason()));
      else call.respond(403, HttpCall.error("not a member"));
    });
    loop.step(new Event.ViewPushArrived(id, push.from(), push.view()));
  }

  /** A member that is being removed hands its own removal over to this node, which drains it. */
  void viewChange(HttpCall call) {
    String member = ViewApi.member(call);
    boolean add = "true".equals(call.param("add"));
    long id = requests.register(r -> {
      if (r instanceof Reply.ViewChange v) call.respond(200, PeerCodec.encode(v));
      else if (r instanceof Reply.Unavailable u) call.respond(503, HttpCall.error(u.reason()));
    });
    loop.step(new Event.ViewChangeRequested(id, member, add, !add)); // a handed-over removal: the leaver must be drained
  }
}
