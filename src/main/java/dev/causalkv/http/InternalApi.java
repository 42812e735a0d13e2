package dev.causalkv.http;

import com.google.gson.JsonObject;
import dev.causalkv.core.NodeId;
import dev.causalkv.core.Store;
import dev.causalkv.core.ViewState;
import dev.causalkv.driver.Metrics;
import dev.causalkv.driver.NodeLoop;
import dev.causalkv.driver.Requests;
import dev.causalkv.protocol.Event;
import dev.causalkv.protocol.PullRequest;
import dev.causalkv.protocol.Reply;
import dev.causalkv.security.Keyring;
import dev.causalkv.security.PeerGate;
import dev.causalkv.security.PeerNonces;
import dev.causalkv.wire.Json;
import dev.causalkv.wire.PeerCodec;
import dev.causalkv.wire.PullStreamCodec;
import io.undertow.util.AttachmentKey;
import io.undertow.util.Headers;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The peer endpoints: {@code POST /internal/pull} (a long-poll answered with a streamed answer,
 * docs/design.md §5), {@code PUT /internal/view} (a pushed view), {@code POST /internal/view-change}
 * (a view change a leaving member hands over) and {@code GET /internal/confirm} (whether a call
 * was this node's own). Requests become events for the core; its replies go back on the wire.
 *
 * <p>Before the core sees a request, the edge checks that its sender is who it says: with a
 * cluster token, the token did (HttpEdge); without one, the call must come from the claimed
 * member's address or be confirmed by that member ({@link PeerGate}). Views that arrive are
 * checked too: a counter far ahead of this node's is a 400, never a change of the view.
 */
final class InternalApi {

  private static final Logger LOG = Logger.getLogger(InternalApi.class.getName());
  /** The members whose calls this TCP connection has been confirmed to carry (through NAT, by call-back). */
  private static final AttachmentKey<Set<String>> CONFIRMED = AttachmentKey.create(Set.class);
  private static final int MAX_CONFIRMED_PER_CONNECTION = 16;

  private final NodeLoop loop;
  private final Requests requests;
  private final Executor workers;
  private final Metrics metrics;
  private final Keyring keyring;
  /** Null with a cluster token: the token authenticates peers. */
  private final HttpEdge.Trust trust;

  InternalApi(NodeLoop loop, Requests requests, Executor workers, Metrics metrics, Keyring keyring, HttpEdge.Trust trust) {
    this.loop = loop;
    this.requests = requests;
    this.workers = workers;
    this.metrics = metrics;
    this.keyring = keyring;
    this.trust = trust;
  }

  void pull(HttpCall call) {
    PullRequest req;
    try {
      req = PeerCodec.decodePullRequest(call.bodyText(), dev.causalkv.protocol.NodeCore.MAX_HOLD_MILLIS);
    } catch (Json.DecodeException e) {
      throw new HttpCall.BadRequest(400, HttpCall.error("Malformed pull request: " + e.getMessage()));
    }
    checkView(req.view(), "pull request");
    // a call-back only to a node some view lists: this one's, or the puller's (a change this node missed)
    boolean listed = loop.core().meta().view().entries().containsKey(req.from()) || req.view().entries().containsKey(req.from());
    asPeer(call, req.from(), listed, () -> {
      // every known key goes with complete answers (every puller's first pull from a peer is one);
      // the frequent own-origin ones carry only this node's own key, which is how a node that
      // lost its data directory, and came back with a new key, gets it to pullers it has
      boolean allKeys = req.mode() != PullRequest.Mode.OWN;
      long id = requests.register(r -> answerPull(call, r, allKeys));
      loop.step(new Event.PullArrived(id, req));
    });
  }

  /** Refuses (400) a view whose counters this node must not merge (ViewState.implausible). */
  private void checkView(ViewState v, String what) {
    String why = ViewState.implausible(v, loop.core().meta().view().maxCounter());
    if (why != null) {
      metrics.inc("internal.view_refused");
      throw new HttpCall.BadRequest(400, HttpCall.error("Malformed " + what + ": " + why));
    }
  }

  /**
   * Runs {@code go} once the call is known to come from {@code claimed}; else answers 403 (or
   * 503 when too many confirmations are in flight). See {@link PeerGate}.
   */
  private void asPeer(HttpCall call, String claimed, boolean mayConfirm, Runnable go) {
    if (trust == null) {
      go.run();
      return;
    }
    Set<String> confirmed = call.exchange.getConnection().getAttachment(CONFIRMED);
    if (confirmed != null && confirmed.contains(claimed)) {
      go.run();
      return;
    }
    InetSocketAddress src = call.exchange.getSourceAddress();
    if (src == null || src.getAddress() == null) {
      call.respond(403, HttpCall.error("Peer calls must come from the member they name"));
      return;
    }
    trust.gate().verify(src.getAddress(), claimed, call.header(PeerNonces.HEADER), mayConfirm).whenComplete((v, err) -> {
      if (err == null && v == PeerGate.Verdict.YES) {
        remember(call, claimed);
        go.run();
      } else if (err == null && v == PeerGate.Verdict.BUSY) {
        call.respond(503, HttpCall.error("Node busy confirming peers, retry"));
      } else {
        metrics.inc("internal.impostor_refused");
        call.respond(403, HttpCall.error("Not from " + claimed + ": the call comes from " + src.getAddress().getHostAddress()
            + ", which is not that member's address, and the member did not confirm it"));
      }
    });
  }

  private static void remember(HttpCall call, String member) {
    io.undertow.server.ServerConnection c = call.exchange.getConnection();
    Set<String> s = c.getAttachment(CONFIRMED);
    if (s == null) {
      // an HTTP/1.1 connection carries one request at a time: no other request races this one
      s = ConcurrentHashMap.newKeySet();
      c.putAttachment(CONFIRMED, s);
    }
    if (s.size() < MAX_CONFIRMED_PER_CONNECTION) s.add(member);
  }

  /**
   * {@code GET /internal/confirm?nonce=N&for=P}: whether this node put nonce N on a call to P
   * lately. P asks when the call reached it from an unexpected address (PeerGate).
   */
  void confirm(HttpCall call) {
    Map<String, Object> out = new java.util.LinkedHashMap<>();
    boolean yes = trust != null && trust.nonces().issued(call.param("for"), call.param("nonce"));
    out.put("confirmed", yes);
    if (!yes) {
      out.put("result", "Error");
      out.put("msg", "Not a nonce this node issued to that peer");
    }
    call.respond(yes ? 200 : 404, out);
  }

  private void answerPull(HttpCall call, Reply r, boolean allKeys) {
    if (r instanceof Reply.Pull p) {
      try {
        // Streaming blocks on the socket: a worker thread, never an IO thread.
        workers.execute(() -> stream(call, p.answer(), allKeys));
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

  private void stream(HttpCall call, Reply.PullAnswer a, boolean allKeys) {
    long count = 0;
    long bytes = 0;
    try (Store.Delta delta = a.delta()) {
      if (!call.claim()) return;
      call.exchange.startBlocking();
      call.exchange.setStatusCode(200);
      call.exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/x-ndjson");
      AnswerOut out = new AnswerOut(call.exchange.getOutputStream());
      // this pull was admitted: the puller is a member, and may verify the payloads this node's keys sealed;
      // the key count is for a catching-up puller's progress report
      bytes += write(out, PullStreamCodec.head(a.view(), a.marks(), loop.core().keyCount(),
          allKeys || keyring.isShared() ? keyring.toShare() : java.util.List.of(keyring.own())));
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

  private static long write(AnswerOut out, byte[] line) throws IOException {
    out.write(line);
    return line.length;
  }

  /**
   * Gathers an answer's lines into large writes, in a buffer the worker thread keeps: a steady
   * state answer is a few hundred bytes, and a fresh 64 KiB buffer for each was most of what a
   * replicated write allocated.
   */
  private static final class AnswerOut {
    private static final ThreadLocal<byte[]> BUFFER = ThreadLocal.withInitial(() -> new byte[64 * 1024]);
    private final OutputStream out;
    private final byte[] buf = BUFFER.get();
    private int n;

    AnswerOut(OutputStream out) {
      this.out = out;
    }

    void write(byte[] line) throws IOException {
      if (n + line.length > buf.length) flush();
      if (line.length > buf.length) {
        out.write(line);
        return;
      }
      System.arraycopy(line, 0, buf, n, line.length);
      n += line.length;
    }

    private void flush() throws IOException {
      if (n > 0) out.write(buf, 0, n);
      n = 0;
    }

    void close() throws IOException {
      flush();
      out.close();
    }
  }

  void pushView(HttpCall call) {
    PeerCodec.Push push;
    try {
      push = PeerCodec.decodePush(call.bodyText());
    } catch (Json.DecodeException e) {
      throw new HttpCall.BadRequest(400, HttpCall.error("Malformed view push: " + e.getMessage()));
    }
    checkView(push.view(), "view push");
    boolean listed = loop.core().meta().view().entries().containsKey(push.from());
    asPeer(call, push.from(), listed, () -> {
      long id = requests.register(r -> {
        if (r instanceof Reply.ViewPushed v && v.accepted()) call.respond(200, Map.of("ok", true));
        else if (r instanceof Reply.Unavailable u) call.respond(503, HttpCall.error(u.reason()));
        else call.respond(403, HttpCall.error("not a member"));
      });
      loop.step(new Event.ViewPushArrived(id, push.from(), push.view()));
    });
  }

  /**
   * A member that is being removed hands its own removal over to this node, which drains it.
   * Without a token the caller names itself ({@code from}) and must be a member.
   */
  void viewChange(HttpCall call) {
    String member = ViewApi.member(call);
    boolean add = "true".equals(call.param("add"));
    Runnable go = () -> {
      long id = requests.register(r -> {
        if (r instanceof Reply.ViewChange v) call.respond(200, PeerCodec.encode(v));
        else if (r instanceof Reply.Unavailable u) call.respond(503, HttpCall.error(u.reason()));
      });
      loop.step(new Event.ViewChangeRequested(id, member, add, !add)); // a handed-over removal: the leaver must be drained
    };
    if (trust == null) {
      go.run();
      return;
    }
    String from = call.param("from");
    if (from == null || !NodeId.isValid(from) || !loop.core().members().contains(from)) {
      call.respond(403, HttpCall.error("View changes are handed over only by members (from=<its ip:port>)"));
      return;
    }
    asPeer(call, from, true, go);
  }
}
