package dev.causalkv.http;

import dev.causalkv.BuildInfo;
import dev.causalkv.driver.Metrics;
import io.undertow.util.Headers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code GET /metrics} (Prometheus text format), {@code GET /version} and {@code GET /status} (the status page). */
final class OpsApi {

  private final String nodeId;
  private final Metrics metrics;
  private final byte[] statusPage = resource("status.html");

  OpsApi(String nodeId, Metrics metrics) {
    this.nodeId = nodeId;
    this.metrics = metrics;
  }

  void metrics(HttpCall call) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
    try {
      metrics.writeText(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a byte array does not fail
    }
    send(call, Metrics.textContentType(), out.toByteArray());
  }

  void version(HttpCall call) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("version", BuildInfo.version());
    out.put("node", nodeId);
    call.respond(200, out);
  }

  void statusPage(HttpCall call) {
    call.exchange.getResponseHeaders().put(Headers.CACHE_CONTROL, "no-store");
    send(call, "text/html; charset=utf-8", statusPage);
  }

  private static void send(HttpCall call, String contentType, byte[] body) {
    if (!call.claim()) return;
    call.exchange.setStatusCode(200);
    call.exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, contentType);
    call.exchange.getResponseSender().send(ByteBuffer.wrap(body));
  }

  private static byte[] resource(String name) {
    try (InputStream in = OpsApi.class.getResourceAsStream(name)) {
      if (in == null) return ("<!doctype html><p>status page missing from this build</p>").getBytes(StandardCharsets.UTF_8);
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
