package dev.causalkv.bench;

import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.util.Methods;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Baseline (a): a bare Undertow server with a ConcurrentHashMap answering the store's client
 * API with the same JSON shapes and no replication, no causality and no persistence — the
 * limit of our HTTP stack on this machine. The payload is echoed back untouched.
 */
final class BareServer {
  private static final java.util.regex.Pattern TOKEN = java.util.regex.Pattern.compile("[A-Za-z0-9_.-]*");

  private final ConcurrentHashMap<String, String> map = new ConcurrentHashMap<>();
  /** When set, every request is answered on this pool instead of the I/O thread (as the node does). */
  private final java.util.concurrent.ExecutorService pool;

  BareServer(int dispatchThreads) {
    this.pool = dispatchThreads > 0 ? java.util.concurrent.Executors.newFixedThreadPool(dispatchThreads) : null;
  }

  static void main(String[] args) {
    int port = Integer.parseInt(args.length > 0 ? args[0] : "18080");
    // --dispatch=N: answer on an N-thread pool instead of the I/O thread (the node uses 16)
    int dispatch = args.length > 1 && args[1].startsWith("--dispatch=") ? Integer.parseInt(args[1].substring(11)) : 0;
    new BareServer(dispatch).start(port);
    System.out.println("bare server listening on " + port);
  }

  Undertow start(int port) {
    Undertow u = Undertow.builder()
        .addHttpListener(port, "127.0.0.1")
        .setServerOption(UndertowOptions.ALWAYS_SET_KEEP_ALIVE, false)
        .setHandler(this::handle)
        .build();
    u.start();
    return u;
  }

  private static final String PREFIX = "/keyValue-store/";
  private static final String SEARCH = "/keyValue-store/search/";
  private static final HttpString CT = Headers.CONTENT_TYPE;

  /** Answers on the I/O thread: nothing here blocks, the body is read asynchronously. */
  private void handle(HttpServerExchange ex) {
    if (ex.getRequestContentLength() == 0 || (ex.getRequestContentLength() < 0 && !ex.isRequestChannelAvailable())) {
      answer(ex, "");
      return;
    }
    ex.getRequestReceiver().receiveFullBytes(
        (e, bytes) -> answer(e, new String(bytes, StandardCharsets.UTF_8)),
        (e, err) -> { e.setStatusCode(400); e.endExchange(); });
  }

  private void answer(HttpServerExchange ex, String body) {
    if (pool != null && ex.isInIoThread()) {
      ex.dispatch(pool, () -> answer(ex, body));
      return;
    }
    String path = ex.getRequestPath();
    HttpString m = ex.getRequestMethod();
    String val = null;
    String payload = null;
    for (String src : new String[] {body, ex.getQueryString()}) {
      if (src == null || src.isEmpty()) continue;
      for (String kv : src.split("&")) {
        int eq = kv.indexOf('=');
        if (eq < 0) continue;
        String k = kv.substring(0, eq);
        if (k.equals("val") && val == null) val = URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
        else if (k.equals("payload") && payload == null) payload = URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
      }
    }
    // echoed as the store hands it out: a token string (URL-safe, so it needs no JSON escaping)
    payload = payload == null || !TOKEN.matcher(payload).matches() ? "\"\"" : "\"" + payload + "\"";
    ex.getResponseHeaders().put(CT, "application/json");
    if (path.startsWith(SEARCH) && m.equals(Methods.GET)) {
      boolean exists = map.containsKey(path.substring(SEARCH.length()));
      ex.getResponseSender().send("{\"isExists\":" + exists + ",\"result\":\"Success\",\"payload\":" + payload + "}");
      return;
    }
    if (!path.startsWith(PREFIX)) {
      ex.setStatusCode(404);
      ex.getResponseSender().send("{\"result\":\"Error\",\"msg\":\"Not found\"}");
      return;
    }
    String key = path.substring(PREFIX.length());
    if (m.equals(Methods.GET)) {
      String v = map.get(key);
      if (v == null) {
        ex.setStatusCode(404);
        ex.getResponseSender().send("{\"result\":\"Error\",\"msg\":\"Key does not exist\",\"payload\":" + payload + "}");
      } else {
        ex.getResponseSender().send("{\"result\":\"Success\",\"value\":\"" + v + "\",\"payload\":" + payload + "}");
      }
    } else if (m.equals(Methods.PUT)) {
      if (val == null) {
        ex.setStatusCode(400);
        ex.getResponseSender().send("{\"result\":\"Error\",\"msg\":\"Value is missing\",\"payload\":" + payload + "}");
        return;
      }
      boolean replaced = map.put(key, val) != null;
      ex.setStatusCode(replaced ? 201 : 200);
      ex.getResponseSender().send("{\"replaced\":" + replaced + ",\"msg\":\"" + (replaced ? "Updated successfully" : "Added successfully")
          + "\",\"payload\":" + payload + "}");
    } else if (m.equals(Methods.DELETE)) {
      if (map.remove(key) == null) {
        ex.setStatusCode(404);
        ex.getResponseSender().send("{\"result\":\"Error\",\"msg\":\"Key does not exist\",\"payload\":" + payload + "}");
      } else {
        ex.getResponseSender().send("{\"result\":\"Success\",\"msg\":\"Key deleted\",\"payload\":" + payload + "}");
      }
    } else {
      ex.setStatusCode(405);
      ex.getResponseSender().send("{\"result\":\"Error\",\"msg\":\"Method not allowed\"}");
    }
  }
}
