package dev.causalkv.http;

import dev.causalkv.wire.Json;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One client request once its body has been read: its parameters (form body first, then query
 * string) and a single-shot JSON answer that may be sent from any thread.
 */
final class HttpCall {

  /** A request that cannot be served as sent; becomes a 4xx JSON answer. */
  static final class BadRequest extends RuntimeException {
    final int status;
    final Map<String, Object> body;

    BadRequest(int status, Map<String, Object> body) {
      super(String.valueOf(body.get("msg")), null, false, false);
      this.status = status;
      this.body = body;
    }
  }

  final HttpServerExchange exchange;
  final byte[] body;
  private final Map<String, String> params;
  /** Names sent more than once where they count (in the body, else in the query string). */
  private final java.util.Set<String> repeated = new java.util.HashSet<>();
  private final AtomicBoolean answered = new AtomicBoolean();

  HttpCall(HttpServerExchange exchange, byte[] body) {
    this.exchange = exchange;
    this.body = body;
    this.params = parseParams(exchange, body, repeated);
  }

  /** The named parameter from the form body, else the query string; null when absent. */
  String param(String name) {
    return params.get(name);
  }

  /** Whether the named parameter came more than once (from where {@link #param} takes it). */
  boolean repeated(String name) {
    return repeated.contains(name);
  }

  String bodyText() {
    return new String(body, StandardCharsets.UTF_8);
  }

  String header(String name) {
    return exchange.getRequestHeaders().getFirst(name);
  }

  /** Sends {@code json} with {@code status}, once; later calls are ignored. */
  void respond(int status, Object json) {
    if (!answered.compareAndSet(false, true)) return;
    sendJson(exchange, status, json);
  }

  /** Sends JSON text already written (see {@link ClientJson}) with {@code status}, once. */
  void respondText(int status, String json) {
    if (!answered.compareAndSet(false, true)) return;
    exchange.setStatusCode(status);
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
    exchange.getResponseSender().send(json, StandardCharsets.UTF_8);
  }

  /** Sends {@code json} with {@code status} on an exchange that has no call yet (or through one). */
  static void sendJson(HttpServerExchange ex, int status, Object json) {
    ex.setStatusCode(status);
    ex.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
    ex.getResponseSender().send(Json.toJson(json), StandardCharsets.UTF_8);
  }

  /** Claims the right to answer by other means (a streamed body); false if already answered. */
  boolean claim() {
    return answered.compareAndSet(false, true);
  }

  static Map<String, Object> error(String msg) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("result", "Error");
    m.put("msg", msg);
    return m;
  }

  private static Map<String, String> parseParams(HttpServerExchange ex, byte[] body, java.util.Set<String> repeated) {
    Map<String, String> out = new HashMap<>();
    for (Map.Entry<String, Deque<String>> e : ex.getQueryParameters().entrySet()) {
      if (!e.getValue().isEmpty()) out.put(e.getKey(), e.getValue().getFirst());
      if (e.getValue().size() > 1) repeated.add(e.getKey());
    }
    String type = ex.getRequestHeaders().getFirst(Headers.CONTENT_TYPE);
    boolean json = type != null && type.toLowerCase().startsWith("application/json");
    if (body.length > 0 && !json) {
      java.util.Set<String> seen = new java.util.HashSet<>();
      // Form-encoded on every method, GET and DELETE included; '&&' (as in the assignment) is tolerated.
      // Split on the bytes '&' and '=' (never part of a UTF-8 multi-byte sequence), decode each part.
      int start = 0;
      for (int i = 0; i <= body.length; i++) {
        if (i < body.length && body[i] != '&') continue;
        if (i > start) {
          int eq = start;
          while (eq < i && body[eq] != '=') eq++;
          String k = formPart(body, start, eq);
          String v = eq < i ? formPart(body, eq + 1, i) : "";
          if (seen.add(k)) {
            out.put(k, v); // the body wins over the query string; its first value counts
            repeated.remove(k);
          } else {
            repeated.add(k);
          }
        }
        start = i + 1;
      }
    }
    return out;
  }

  /** One form-encoded name or value: as UTF-8 text when it holds no escapes, else through URLDecoder. */
  private static String formPart(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] == '%' || b[i] == '+') {
        try {
          return URLDecoder.decode(new String(b, from, to - from, StandardCharsets.UTF_8), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException bad) {
          throw new BadRequest(400, error("Malformed form body: bad percent-encoding"));
        }
      }
    }
    return new String(b, from, to - from, StandardCharsets.UTF_8);
  }
}
