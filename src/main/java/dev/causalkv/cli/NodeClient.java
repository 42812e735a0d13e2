package dev.causalkv.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.CompletableFuture;

/** Talks HTTP to nodes as any client does: form-encoded parameters in, JSON answers out. */
final class NodeClient {

  /** The header the node reads a payload from and echoes the new one in. */
  static final String PAYLOAD_HEADER = "X-Causal-Payload";

  /**
   * An answer, or why there is none. {@code sent} tells, for a failure, whether the request may
   * have reached the node (an indefinite outcome: a write may have happened) or surely did not.
   */
  record Answer(String node, int status, String body, JsonObject json, String failure, boolean sent) {
    boolean answered() {
      return failure == null;
    }

    String msg() {
      return string("msg");
    }

    String string(String field) {
      if (json == null || !json.has(field) || json.get(field).isJsonNull()) return null;
      JsonElement e = json.get(field);
      return e.isJsonPrimitive() ? e.getAsString() : e.toString();
    }

    /** The payload the answer carries, as text to send back; null when it carries none (or an empty one). */
    String payload() {
      if (json == null || !json.has("payload")) return null;
      JsonElement p = json.get("payload");
      if (p.isJsonNull()) return null;
      if (p.isJsonPrimitive()) return p.getAsString().isEmpty() ? null : p.getAsString();
      if (p.isJsonObject() && p.getAsJsonObject().size() == 0) return null;
      return p.toString();
    }

    boolean outOfDate() {
      return status == 400 && "Payload out of date".equals(msg());
    }
  }

  private final HttpClient http;
  private final Duration timeout;
  private final String token;

  NodeClient(Duration timeout, String token) {
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
    this.timeout = timeout;
    this.token = token;
  }

  /** Sends {@code form} (name, value pairs; null values left out) form-encoded in the body. */
  Answer send(String method, String node, String path, Map<String, String> form, Map<String, String> headers) {
    return sendAsync(method, node, path, form, headers).join();
  }

  CompletableFuture<Answer> sendAsync(String method, String node, String path, Map<String, String> form,
      Map<String, String> headers) {
    StringJoiner body = new StringJoiner("&");
    form.forEach((k, v) -> {
      if (v != null) body.add(k + "=" + URLEncoder.encode(v, StandardCharsets.UTF_8));
    });
    HttpRequest.Builder b;
    try {
      b = HttpRequest.newBuilder(URI.create("http://" + node + path));
    } catch (IllegalArgumentException bad) {
      return CompletableFuture.completedFuture(new Answer(node, 0, null, null, "not a node address: " + node, false));
    }
    b.timeout(timeout)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .method(method, HttpRequest.BodyPublishers.ofString(body.toString()));
    if (token != null) b.header("X-Cluster-Token", token);
    headers.forEach(b::header);
    return http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString()).handle((r, err) -> {
      if (err != null) {
        Throwable e = err.getCause() != null ? err.getCause() : err;
        boolean notSent = e instanceof ConnectException || e instanceof HttpConnectTimeoutException;
        String why = notSent ? "could not connect" : e instanceof java.net.http.HttpTimeoutException ? "no answer within " + timeout.toSeconds() + " s" : "connection failed (" + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")";
        return new Answer(node, 0, null, null, why, !notSent);
      }
      JsonObject json = null;
      try {
        JsonElement e = JsonParser.parseString(r.body());
        if (e.isJsonObject()) json = e.getAsJsonObject();
      } catch (RuntimeException notJson) {
        // kept as text: printed as it came
      }
      return new Answer(node, r.statusCode(), r.body(), json, null, true);
    });
  }

  static Map<String, String> form(String... pairs) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i + 1 < pairs.length; i += 2) m.put(pairs[i], pairs[i + 1]);
    return m;
  }

}
