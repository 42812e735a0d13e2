package dev.causalkv.cluster;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.StringJoiner;
import java.util.concurrent.CompletableFuture;

/** A test client session that carries its causal payload from answer to request, as the course's script does. */
final class Client {

  /** One answer: status and JSON body. */
  record Reply(int status, JsonObject json, String raw) {
    String msg() {
      return json.has("msg") ? json.get("msg").getAsString() : null;
    }

    /** The payload as handed out: the token's text (a JSON string's content), else the JSON text. */
    String payload() {
      if (!json.has("payload")) return null;
      JsonElement p = json.get("payload");
      return p.isJsonPrimitive() ? p.getAsString() : p.toString();
    }
  }

  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** The payload this session carries: the last one it was handed. */
  String payload = "";

  Reply put(String node, String key, String val) {
    return remember(send("PUT", node, "/keyValue-store/" + key, "val", val, "payload", payload));
  }

  Reply get(String node, String key) {
    return remember(send("GET", node, "/keyValue-store/" + key, "payload", payload));
  }

  Reply search(String node, String key) {
    return remember(send("GET", node, "/keyValue-store/search/" + key, "payload", payload));
  }

  Reply delete(String node, String key) {
    return remember(send("DELETE", node, "/keyValue-store/" + key, "payload", payload));
  }

  private Reply remember(Reply r) {
    String p = r.payload();
    // a refused payload is answered with the empty one: keeping it would forget this session's history
    if (p != null && !p.isEmpty() && !"Payload is not valid".equals(r.msg())) payload = p;
    return r;
  }

  static Reply send(String method, String node, String path, String... form) {
    return sendAsync(method, node, path, form).join();
  }

  static CompletableFuture<Reply> sendAsync(String method, String node, String path, String... form) {
    StringJoiner body = new StringJoiner("&");
    for (int i = 0; i + 1 < form.length; i += 2) {
      if (form[i + 1] == null) continue;
      body.add(form[i] + "=" + URLEncoder.encode(form[i + 1], StandardCharsets.UTF_8));
    }
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://" + node + path))
        .timeout(Duration.ofSeconds(20))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .method(method, HttpRequest.BodyPublishers.ofString(body.toString()))
        .build();
    return HTTP.sendAsync(req, HttpResponse.BodyHandlers.ofString()).thenApply(resp -> {
      JsonElement e;
      try {
        e = JsonParser.parseString(resp.body());
      } catch (RuntimeException bad) {
        throw new AssertionError("non-JSON answer " + resp.statusCode() + ": " + resp.body());
      }
      if (!e.isJsonObject()) throw new AssertionError("non-object answer: " + resp.body());
      String type = resp.headers().firstValue("Content-Type").orElse("");
      if (!type.startsWith("application/json")) throw new AssertionError("Content-Type " + type);
      return new Reply(resp.statusCode(), e.getAsJsonObject(), resp.body());
    });
  }

  static Reply rawPath(String method, String node, String rawPathAndQuery, String body) {
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://" + node + rawPathAndQuery))
        .timeout(Duration.ofSeconds(20))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .method(method, HttpRequest.BodyPublishers.ofString(body))
        .build();
    try {
      HttpResponse<String> resp = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
      return new Reply(resp.statusCode(), JsonParser.parseString(resp.body()).getAsJsonObject(), resp.body());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
