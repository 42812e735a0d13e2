package dev.causalkv.http;

import dev.causalkv.wire.Json;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
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

  /** The causal payload as a header, for clients that prefer headers to the body's {@code payload} field. */
  static final String PAYLOAD_HEADER = "X-Causal-Payload";
  private static final HttpString PAYLOAD_HEADER_NAME = new HttpString(PAYLOAD_HEADER);
  /** The {@code msg} of the JSON answer sent, for the edge's metrics (e.g. "Payload out of date"). */
  static final io.undertow.util.AttachmentKey<String> ANSWER_MSG = io.undertow.util.AttachmentKey.create(String.class);

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

  /**
   * Sends JSON text already written (see {@link ClientJson}) with {@code status}, once, as
   * {@link #sendJson} does: a newline at the end, the payload also in the header, the message
   * kept for the edge's counters.
   */
  void respondText(int status, String json, String payload, String msg) {
    if (!answered.compareAndSet(false, true)) return;
    exchange.setStatusCode(status);
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
    if (payload != null) exchange.getResponseHeaders().put(PAYLOAD_HEADER_NAME, payload);
    if (msg != null) exchange.putAttachment(ANSWER_MSG, msg);
    exchange.getResponseSender().send(json + "\n", StandardCharsets.UTF_8);
  }

  /**
   * Sends {@code json} with {@code status} on an exchange that has no call yet (or through one),
   * ending with a newline (so that a shell prompt after {@code curl} starts on its own line). An
   * answer that carries a payload also carries it in the {@value #PAYLOAD_HEADER} header.
   */
  static void sendJson(HttpServerExchange ex, int status, Object json) {
    ex.setStatusCode(status);
    ex.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
    if (json instanceof Map<?, ?> m) {
      Object payload = m.get("payload");
      if (payload != null) ex.getResponseHeaders().put(PAYLOAD_HEADER_NAME, payloadText(payload));
      if (m.get("msg") instanceof String msg) ex.putAttachment(ANSWER_MSG, msg);
    }
    ex.getResponseSender().send(Json.toJson(json) + "\n", StandardCharsets.UTF_8);
  }

  /** The payload as clients send it back: a string as is, anything else as its JSON text. */
  static String payloadText(Object payload) {
    return payload instanceof String s ? s : Json.toJson(payload);
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
    String header = ex.getRequestHeaders().getFirst(PAYLOAD_HEADER);
    if (header != null && !out.containsKey("payload")) out.put("payload", header); // a parameter wins over the header
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
