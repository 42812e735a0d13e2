package dev.causalkv.http;

import dev.causalkv.driver.Clock;
import dev.causalkv.driver.Metrics;
import dev.causalkv.driver.NodeLoop;
import dev.causalkv.driver.Readiness;
import dev.causalkv.driver.Requests;
import dev.causalkv.wire.PayloadCodec;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.RequestTooBigException;
import io.undertow.util.Headers;
import io.undertow.util.SameThreadExecutor;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
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
  private static final String KV = "/keyValue-store/";
  private static final String SEARCH = "search/";

  /** Everything the edge needs from the rest of the node. */
  public record Deps(
      NodeLoop loop, Requests requests, PayloadCodec payloads, ExecutorService workers, Clock clock, Metrics metrics,
      String clusterToken, boolean commitsBlock, Readiness readiness) {}

  private final Deps d;
  private final KeyValueApi kv;
  private final ViewApi view;
  private final InternalApi internal;
  private final AdminApi admin;
  private final HealthApi health;
  private final Undertow server;

  public HttpEdge(Deps d, String bind, int port) {
    this.d = d;
    this.kv = new KeyValueApi(d.loop(), d.requests(), d.payloads(), d.clock(), d.metrics());
    this.view = new ViewApi(d.loop(), d.requests());
    this.internal = new InternalApi(d.loop(), d.requests(), d.workers(), d.metrics());
    this.admin = new AdminApi(d.loop(), d.metrics());
    this.health = new HealthApi(d.loop().core(), d.readiness());
    this.server = Undertow.builder()
        .addHttpListener(port, bind)
        .setIoThreads(Math.max(2, Runtime.getRuntime().availableProcessors()))
        .setWorkerThreads(4) // Undertow's own pool is unused: work runs on d.workers()
        .setServerOption(UndertowOptions.MAX_ENTITY_SIZE, MAX_BODY_BYTES)
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
    boolean inline = !d.commitsBlock() && !ex.getRequestPath().startsWith("/admin/");
    ex.getRequestReceiver().receiveFullBytes(
        (e, body) -> {
          try {
            // dispatch() also keeps the exchange open past this call for requests answered later
            e.dispatch(inline ? SameThreadExecutor.INSTANCE : d.workers(), () -> handle(e, body));
          } catch (RejectedExecutionException busy) {
            send(e, 503, HttpCall.error("Node overloaded, retry"));
          }
        },
        (e, err) -> {
          if (err instanceof RequestTooBigException) send(e, 413, HttpCall.error("Request body too large"));
          else send(e, 400, HttpCall.error("Could not read request body"));
        });
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
        case "PUT" -> view.put(call);
        case "DELETE" -> view.delete(call);
        default -> notAllowed(call, "GET, PUT, DELETE");
      }
    } else if (path.equals("/health") || path.equals("/ready")) {
      if (!method.equals("GET")) notAllowed(call, "GET");
      else if (path.equals("/health")) health.health(call);
      else health.ready(call);
    } else if (path.startsWith("/internal/")) {
      if (!authorised(call)) return;
      switch (path + " " + method) {
        case "/internal/pull POST" -> internal.pull(call);
        case "/internal/view PUT" -> internal.pushView(call);
        case "/internal/view-change POST" -> internal.viewChange(call);
        default -> notFound(call);
      }
    } else if (path.startsWith("/admin/")) {
      if (!authorised(call)) return;
      switch (path + " " + method) {
        case "/admin/state GET" -> admin.state(call);
        case "/admin/stats GET" -> admin.stats(call);
        default -> notFound(call);
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
