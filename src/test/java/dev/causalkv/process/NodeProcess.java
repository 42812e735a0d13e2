package dev.causalkv.process;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;

/** One node as a real process of the packaged jar, on a loopback port, with its own data directory. */
final class NodeProcess implements AutoCloseable {

  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** An HTTP answer: status and JSON body. */
  record Reply(int status, JsonObject json) {}

  final String id;
  final Path dataDir;
  final Path logFile;
  private final List<String> view;
  private final Map<String, String> env;
  private final List<String> jvmArgs;
  private Process process;

  NodeProcess(String id, List<String> view, Path dataDir, Map<String, String> env, List<String> jvmArgs) {
    this.id = id;
    this.view = view;
    this.dataDir = dataDir;
    this.env = env;
    this.jvmArgs = jvmArgs;
    this.logFile = dataDir.resolveSibling(dataDir.getFileName() + ".log");
  }

  static String freeId() {
    try (ServerSocket s = new ServerSocket(0)) {
      return "127.0.0.1:" + s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Starts the process and waits until it answers HTTP. */
  NodeProcess start() throws Exception {
    String jar = System.getProperty("causalkv.jar", "target/causalkv.jar");
    List<String> cmd = new ArrayList<>();
    cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
    cmd.addAll(jvmArgs);
    cmd.add("-jar");
    cmd.add(jar);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("IP_PORT", id);
    pb.environment().put("VIEW", String.join(",", view));
    pb.environment().put("PORT", id.substring(id.indexOf(':') + 1));
    pb.environment().put("BIND", "127.0.0.1");
    pb.environment().put("DATA_DIR", dataDir.toString());
    pb.environment().put("PULL_HOLD_MS", "3000");
    pb.environment().putAll(env); // may override any of the above, e.g. DATA_DIR=:memory:
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    process = pb.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) throw new AssertionError("node " + id + " exited " + process.exitValue() + ": " + log());
      try {
        if (send("GET", "/view").status() == 200) return this;
      } catch (Exception notYet) {
        Thread.sleep(50);
      }
    }
    throw new AssertionError("node " + id + " did not come up: " + log());
  }

  /** SIGKILL: no shutdown hook, no flush, no close. */
  void kill9() throws InterruptedException {
    if (process == null) return;
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
    process = null;
  }

  boolean alive() {
    return process != null && process.isAlive();
  }

  long pid() {
    return process.pid();
  }

  String log() {
    try {
      return Files.readString(logFile);
    } catch (IOException e) {
      return "(no log)";
    }
  }

  Reply send(String method, String path, String... form) throws Exception {
    StringJoiner body = new StringJoiner("&");
    for (int i = 0; i + 1 < form.length; i += 2) {
      if (form[i + 1] != null) body.add(form[i] + "=" + URLEncoder.encode(form[i + 1], StandardCharsets.UTF_8));
    }
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://" + id + path))
        .timeout(Duration.ofSeconds(20))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .method(method, HttpRequest.BodyPublishers.ofString(body.toString()))
        .build();
    HttpResponse<String> r = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
    return new Reply(r.statusCode(), JsonParser.parseString(r.body()).getAsJsonObject());
  }

  Reply put(String key, String value, String payload) throws Exception {
    return send("PUT", "/keyValue-store/" + key, "val", value, "payload", payload);
  }

  Reply get(String key, String payload) throws Exception {
    return send("GET", "/keyValue-store/" + key, "payload", payload);
  }

  /** {@code GET /admin/state}: origin, ownSeq, applied and every key's siblings. */
  JsonObject state() throws Exception {
    return send("GET", "/admin/state").json();
  }

  @Override
  public void close() throws InterruptedException {
    kill9();
  }
}
