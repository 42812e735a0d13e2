package dev.causalkv.http;

import dev.causalkv.driver.Clock;
import dev.causalkv.driver.Metrics;
import dev.causalkv.driver.NodeLoop;
import dev.causalkv.driver.PeerHealth;
import dev.causalkv.driver.Readiness;
import dev.causalkv.driver.Requests;
import dev.causalkv.security.PeerGate;
import dev.causalkv.security.PeerNonces;
import dev.causalkv.wire.PayloadCodec;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.HttpServerExchange;
import io.undertow.io.Receiver;
import io.undertow.util.Headers;
import io.undertow.util.SameThreadExecutor;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.xnio.Options;

/**
 * The HTTP edge: an Undertow server whose IO threads read bodies, route, and hand each request to
 * the node's loop as an event; requests that must wait are parked in the core, holding no thread,
 * and answered when the core replies. Only what blocks (streaming pull answers, admin scans) runs
 * on the bounded worker pool. The whole route table is {@link #route}.
 */
public final class HttpEdge implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(HttpEdge.class.getName());
  /** A 1 MB value, form-encoded, can triple in size; anything larger is refused unread. */
  static final long MAX_BODY_BYTES = 4L * 1024 * 1024;
  /**
   * An oversized body of at most this many bytes is read and discarded before the 413 goes out:
   * a client still sending when the server closes gets a TCP reset instead of the answer. Past
   * it, the answer goes out at once and the connection closes.
   */
  static final long DISCARD_MAX_BYTES = 16L * 1024 * 1024;
  private static final String KV = "/keyValue-store/";
  private static final String SEARCH = "search/";

  /** Everything the edge needs from the rest of the node. */
  public record Deps(
      NodeLoop loop, Requests requests, PayloadCodec payloads, ExecutorService workers, Clock clock, Metrics metrics,
      String clusterToken, boolean commitsBlock, Readiness readiness, PeerHealth health,
      Trust trust) {}

  /**
   * Who may call what without a cluster token ({@link PeerGate}), the nonces this node's own peer
   * calls carry (for {@code /internal/confirm}), and a timer for requests waiting for a seal key.
   */
  public record Trust(PeerGate gate, PeerNonces nonces, ScheduledExecutorService timer, long keyWaitMillis) {}

  private final Deps d;
  private final KeyValueApi kv;
  private final ViewApi view;
  private final InternalApi internal;
  private final AdminApi admin;
  private final HealthApi health;
  private final PayloadApi payloadApi;
  private final InspectApi inspect;
  private final ClusterStatusApi clusterStatus;
  private final OpsApi ops;
  private final EdgeMetrics edgeMetrics;
  private final Undertow server;

  public HttpEdge(Deps d, String bind, int port) {
    this.d = d;
    this.kv = new KeyValueApi(d.loop(), d.requests(), d.payloads(), d.clock(), d.metrics(), d.trust().timer(),
        d.trust().keyWaitMillis());
    this.view = new ViewApi(d.loop(), d.requests());
    this.internal = new InternalApi(d.loop(), d.requests(), d.workers(), d.metrics(), d.payloads().keyring(),
        d.clusterToken() == null ? d.trust() : null);
    this.admin = new AdminApi(d.loop(), d.metrics(), d.payloads().keyring());
    this.health = new HealthApi(d.loop().core(), d.readiness());
    this.edgeMetrics = new EdgeMetrics(d.metrics());
    this.payloadApi = new PayloadApi(d.payloads());
    this.inspect = new InspectApi(d.loop().core());
    this.clusterStatus = new ClusterStatusApi(d.loop().core(), d.health(), edgeMetrics::acknowledgedWrites, d.clusterToken());
    this.ops = new OpsApi(d.loop().core().nodeId(), d.metrics());
    this.server = Undertow.builder()
        .addHttpListener(port, bind)
        .setIoThreads(Math.max(2, Runtime.getRuntime().availableProcessors()))
        .setWorkerThreads(4) // Undertow's own pool is unused: work runs on d.workers()
        // Undertow's own limit (2 MB by default) answers an oversized body with an empty 400
        // before any handler runs: off; the limit is enforced in receive(), which answers a JSON 413
        .setServerOption(UndertowOptions.MAX_ENTITY_SIZE, -1L)
        .setServerOption(UndertowOptions.DECODE_SLASH, true)
        .setServerOption(UndertowOptions.ALLOW_UNESCAPED_CHARACTERS_IN_URL, true)
        .setServerOption(UndertowOptions.ALWAYS_SET_KEEP_ALIVE, true)
        .setServerOption(UndertowOptions.RECORD_REQUEST_START_TIME, false)
        .setSocketOption(Options.REUSE_ADDRESSES, true)
        .setHandler(this::receive)
        .build();
  }

  public void start() {
    server.start();
  }

  public int port() {
    return ((InetSocketAddress) server.getListenerInfo().get(0).getAddress()).getPort();
  }

  @Override
  public void close() {
    server.stop();
  }

  /**
   * IO thread: read the whole body without blocking, then handle the request right here: every
   * request becomes an event stepped under the loop's lock (a short step, never blocking on I/O;
   * commits only write the log, syncing happens in the store's group commit) or is answered from
   * the last persisted state. The hop to a worker thread cost most of the throughput gap to a
   * bare Undertow server. Admin scans, which walk the store, go to a worker, and so does
   * everything when commits block on an fsync ({@code SYNC=always}).
   */
  private void receive(HttpServerExchange ex) {
    edgeMetrics.watch(ex);
    String path = ex.getRequestPath();
    boolean inline = !d.commitsBlock() && !path.startsWith("/admin/") && !path.equals("/metrics");
    Receiver.FullBytesCallback ok = (e, body) -> {
      try {
        // dispatch() also keeps the exchange open past this call for requests answered later
        e.dispatch(inline ? SameThreadExecutor.INSTANCE : d.workers(), () -> handle(e, body));
      } catch (RejectedExecutionException busy) {
        send(e, 503, HttpCall.error("Node overloaded, retry"));
      }
    };
    Receiver.ErrorCallback failed = (e, err) -> send(e, 400, HttpCall.error("Could not read request body"));
    long length = ex.getRequestContentLength();
    if (length > MAX_BODY_BYTES) {
      tooLarge(ex, length);
    } else if (length >= 0 || ex.isRequestComplete()) {
      ex.getRequestReceiver().receiveFullBytes(ok, failed);
    } else {
      receiveChunked(ex, ok, failed);
    }
  }

  /**
   * A body declared larger than the limit: refused unread with a JSON 413. A client that waits for
   * {@code 100 Continue} never sends it; one that sends it anyway has it read and discarded first
   * (up to {@link #DISCARD_MAX_BYTES}), so that it reads the answer rather than a reset connection.
   */
  private void tooLarge(HttpServerExchange ex, long length) {
    d.metrics().inc("http.body_too_large");
    ex.setPersistent(false);
    boolean expectsContinue = "100-continue".equalsIgnoreCase(ex.getRequestHeaders().getFirst(Headers.EXPECT));
    if (expectsContinue || length > DISCARD_MAX_BYTES) {
      send(ex, 413, tooLargeError());
      return;
    }
    ex.getRequestReceiver().receivePartialBytes(
        (e, chunk, last) -> {
          if (last) send(e, 413, tooLargeError());
        },
        (e, err) -> send(e, 413, tooLargeError()));
  }

  /** A body of unknown length (chunked): read up to the limit; past it, discarded (up to a bound) and refused with a JSON 413. */
  private void receiveChunked(HttpServerExchange ex, Receiver.FullBytesCallback ok, Receiver.ErrorCallback failed) {
    java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
    long[] seen = new long[1];
    boolean[] answered = new boolean[1];
    ex.getRequestReceiver().receivePartialBytes(
        (e, chunk, last) -> {
          if (answered[0]) return;
          seen[0] += chunk.length;
          if (seen[0] <= MAX_BODY_BYTES) {
            buf.write(chunk, 0, chunk.length);
            if (last) {
              answered[0] = true;
              ok.handle(e, buf.toByteArray());
            }
            return;
          }
          if (buf.size() > 0) buf.reset();
          if (last || seen[0] > DISCARD_MAX_BYTES) {
            answered[0] = true;
            d.metrics().inc("http.body_too_large");
            e.setPersistent(false);
            send(e, 413, tooLargeError());
          }
        },
        failed);
  }

  private static java.util.Map<String, Object> tooLargeError() {
    return HttpCall.error("Request body too large: at most " + MAX_BODY_BYTES + " bytes");
  }

  /** Parse, route, and turn every failure into a JSON answer. */
  private void handle(HttpServerExchange ex, byte[] body) {
    HttpCall call = null;
    try {
      call = new HttpCall(ex, body);
      route(call, ex.getRequestMethod().toString(), ex.getRequestPath());
    } catch (HttpCall.BadRequest b) {
      if (call != null) call.respond(b.status, b.body);
      else send(ex, b.status, b.body);
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "request failed: " + ex.getRequestMethod() + " " + ex.getRequestPath(), e);
      if (call != null) call.respond(500, HttpCall.error("Internal error"));
      else send(ex, 500, HttpCall.error("Internal error"));
    }
  }

  /** The route table: the journey of every request starts here. */
  private void route(HttpCall call, String method, String path) {
    if (path.startsWith(KV)) {
      String rest = path.substring(KV.length());
      if (rest.startsWith(SEARCH) && method.equals("GET")) {
        kv.get(call, rest.substring(SEARCH.length()), true);
        return;
      }
      if (rest.startsWith(SEARCH)) {
        // GET of such a key would be a search: refuse to create what could never be read back
        call.respond(400, HttpCall.error("Key not valid"));
        return;
      }
      switch (method) {
        case "GET" -> kv.get(call, rest, false);
        case "PUT" -> kv.put(call, rest);
        case "DELETE" -> kv.delete(call, rest);
        default -> notAllowed(call, "GET, PUT, DELETE");
      }
    } else if (path.equals("/keyValue-store")) {
      call.respond(400, HttpCall.error("Key not valid"));
    } else if (path.equals("/view")) {
      switch (method) {
        case "GET" -> view.get(call);
        // open to anyone without a token, as the course's script needs; with one, changes need it
        case "PUT" -> {
          if (authorised(call)) view.put(call);
        }
        case "DELETE" -> {
          if (authorised(call)) view.delete(call);
        }
        default -> notAllowed(call, "GET, PUT, DELETE");
      }
    } else if (path.equals("/health") || path.equals("/ready")) {
      if (!method.equals("GET")) notAllowed(call, "GET");
      else if (path.equals("/health")) health.health(call);
      else health.ready(call);
    } else if (path.startsWith("/internal/")) {
      // with a token, the token; without, the caller's address (or its call-back) says who it is: see InternalApi
      if (!authorised(call)) return;
      switch (path + " " + method) {
        case "/internal/pull POST" -> internal.pull(call);
        case "/internal/view PUT" -> internal.pushView(call);
        case "/internal/view-change POST" -> internal.viewChange(call);
        case "/internal/confirm GET" -> internal.confirm(call);
        default -> notFound(call);
      }
    } else if (path.startsWith("/admin/")) {
      if (!authorised(call) || !adminSource(call)) return;
      switch (path + " " + method) {
        case "/admin/state GET" -> admin.state(call);
        case "/admin/stats GET" -> admin.stats(call);
        case "/admin/peers GET" -> clusterStatus.peers(call);
        case "/admin/cluster GET" -> clusterStatus.cluster(call);
        case "/admin/digest GET" -> inspect.digest(call);
        default -> {
          if (path.startsWith(InspectApi.KEY_PATH) && method.equals("GET")) inspect.key(call, path.substring(InspectApi.KEY_PATH.length()));
          else notFound(call);
        }
      }
    } else if (path.equals("/payload/merge")) {
      if (method.equals("POST")) payloadApi.merge(call);
      else notAllowed(call, "POST");
    } else if (path.equals("/metrics") || path.equals("/version") || path.equals("/status")) {
      if (!method.equals("GET")) {
        notAllowed(call, "GET");
        return;
      }
      switch (path) {
        case "/metrics" -> ops.metrics(call);
        case "/version" -> ops.version(call);
        default -> ops.statusPage(call);
      }
    } else {
      notFound(call);
    }
  }

  private boolean authorised(HttpCall call) {
    String token = d.clusterToken();
    if (token == null) return true;
    String given = call.header("X-Cluster-Token");
    if (given != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8))) {
      return true;
    }
    call.respond(401, HttpCall.error("Missing or wrong X-Cluster-Token"));
    return false;
  }

  /**
   * Without a token, admin calls (which show every key and value) are answered only for loopback,
   * the members' addresses and {@code ADMIN_FROM}. Runs on a worker: it may resolve DNS names.
   */
  private boolean adminSource(HttpCall call) {
    if (d.clusterToken() != null) return true; // the token was checked
    InetSocketAddress src = call.exchange.getSourceAddress();
    if (src != null && src.getAddress() != null && d.trust().gate().adminAllowed(src.getAddress(), d.loop().core().members())) {
      return true;
    }
    call.respond(403, HttpCall.error("Admin endpoints answer only loopback, members and ADMIN_FROM (or set CLUSTER_TOKEN and send it)"));
    return false;
  }

  private static void notFound(HttpCall call) {
    call.respond(404, HttpCall.error("Not found"));
  }

  private static void notAllowed(HttpCall call, String allow) {
    call.exchange.getResponseHeaders().put(Headers.ALLOW, allow);
    call.respond(405, HttpCall.error("Method not allowed"));
  }

  private static void send(HttpServerExchange ex, int status, Object body) {
    HttpCall.sendJson(ex, status, body);
  }
}
