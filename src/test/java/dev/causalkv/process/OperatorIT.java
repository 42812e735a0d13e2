package dev.causalkv.process;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar as operators and shell users meet it: {@code bin/kv} and {@code java -jar
 * causalkv.jar kv} against node processes, {@code --version} and {@code /version}, the node's
 * log lines (start-up, peers, views, catch-up), and {@code LOG_LEVEL}.
 */
@Timeout(240)
class OperatorIT {

  @TempDir Path tmp;

  record Exit(int code, String out, String err) {}

  static String jar() {
    return System.getProperty("causalkv.jar", "target/causalkv.jar");
  }

  static String java() {
    return System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
  }

  Exit run(Map<String, String> env, String... cmd) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    pb.environment().put("KV_SESSIONS_DIR", tmp.resolve("sessions").toString());
    pb.environment().put("PATH", new File(java()).getParent() + File.pathSeparator + System.getenv("PATH"));
    Path out = tmp.resolve("out" + System.nanoTime());
    Path err = tmp.resolve("err" + System.nanoTime());
    Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "finishes: " + String.join(" ", cmd));
    return new Exit(p.exitValue(), java.nio.file.Files.readString(out, StandardCharsets.UTF_8),
        java.nio.file.Files.readString(err, StandardCharsets.UTF_8));
  }

  Exit binKv(String node, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("bin/kv"));
    cmd.addAll(List.of(args));
    return run(Map.of("KV_NODE", node), cmd.toArray(new String[0]));
  }

  @Test
  void binKvCarriesASessionAcrossNodeProcesses() throws Exception {
    String a = NodeProcess.freeId(), b = NodeProcess.freeId();
    List<String> view = List.of(a, b);
    try (NodeProcess na = new NodeProcess(a, view, tmp.resolve("a"), Map.of("DATA_DIR", ":memory:"), List.of()).start();
        NodeProcess nb = new NodeProcess(b, view, tmp.resolve("b"), Map.of("DATA_DIR", ":memory:"), List.of()).start()) {
      Exit put = binKv(a, "-s", "alice", "put", "greeting", "hello world");
      assertEquals(0, put.code(), put.toString());
      assertEquals("added greeting\n", put.out());
      Exit get = binKv(b, "-s", "alice", "get", "greeting"); // waits at b until the write has arrived
      assertEquals(0, get.code(), get.toString());
      assertEquals("hello world\n", get.out());
      Exit viaJar = run(Map.of(), java(), "-jar", jar(), "kv", "--node", b, "-s", "alice", "--json", "search", "greeting");
      assertEquals(0, viaJar.code(), viaJar.toString());
      assertTrue(viaJar.out().contains("\"isExists\":true"), viaJar.out());
      Exit status = binKv(a, "status");
      assertEquals(0, status.code(), status.toString());
      assertTrue(status.out().contains(a) && status.out().contains(b) && status.out().contains("digests: equal on 2 nodes"),
          status.out());

      // version: the jar, the node, the kv client and the Maven project agree
      Exit version = run(Map.of(), java(), "-jar", jar(), "--version");
      assertEquals(0, version.code());
      String v = version.out().trim();
      assertTrue(v.matches("causalkv \\d+\\.\\d+\\.\\d+.*"), v);
      assertEquals(v, binKv(a, "--version").out().trim());
      assertEquals(v.substring("causalkv ".length()), na.send("GET", "/version").json().get("version").getAsString());
      Exit unknown = run(Map.of(), java(), "-jar", jar(), "frobnicate");
      assertEquals(2, unknown.code());
      assertTrue(unknown.err().contains("unknown command 'frobnicate'"), unknown.err());

      // the logs: one start-up line with version and configuration, and peers going away
      String log = na.log();
      List<String> start = log.lines().filter(l -> l.contains("INFO") && l.contains(v + ": node " + a)).toList();
      assertEquals(1, start.size(), log);
      assertTrue(start.get(0).contains("storage memory") && start.get(0).contains("CAUSAL_WAIT_MS=1000")
          && start.get(0).contains("CLUSTER_TOKEN=unset") && start.get(0).contains("LOG_LEVEL=info"), start.get(0));
      nb.kill9();
      await().atMost(Duration.ofSeconds(20)).until(() -> na.log().contains("WARN    driver.PeerHealth  peer " + b + " is unreachable"));
    }
  }

  @Test
  void logsTellOfViewChangesAndCatchUpWithProgress() throws Exception {
    String a = NodeProcess.freeId(), b = NodeProcess.freeId();
    try (NodeProcess na = new NodeProcess(a, List.of(a), tmp.resolve("a"), Map.of("DATA_DIR", ":memory:"), List.of()).start()) {
      // a store to catch up on
      for (int i = 0; i < 300; i++) assertEquals(200, na.put("key" + i, "value" + i, "").status());
      try (NodeProcess nb = new NodeProcess(b, List.of(a, b), tmp.resolve("b"),
          Map.of("DATA_DIR", ":memory:", "LOG_LEVEL", "debug"), List.of()).start()) {
        assertEquals(200, na.send("PUT", "/view", "ip_port", b).status());
        await().atMost(Duration.ofSeconds(30)).until(() -> nb.log().contains("catch-up from " + a + " done: 300 versions"));
        String logB = nb.log();
        assertTrue(logB.contains("catch-up from " + a + " started: it holds about 300 keys"), logB);
        assertTrue(logB.contains("LOG_LEVEL=debug"), logB);
        await().atMost(Duration.ofSeconds(10)).until(() -> na.log().contains("view changed: added " + b));
        assertEquals(200, na.send("DELETE", "/view", "ip_port", b).status());
        await().atMost(Duration.ofSeconds(10)).until(() -> na.log().contains("view changed: removed " + b));
        assertTrue(na.log().contains("drained " + b + " before its removal"), na.log());
        await().atMost(Duration.ofSeconds(10)).until(() -> nb.log().contains("this node was removed from the view"));
      }
    }
  }

  @Test
  void logLevelIsCheckedAndObeyed() throws Exception {
    String id = NodeProcess.freeId();
    Exit bad = run(Map.of("IP_PORT", id, "VIEW", id, "PORT", id.substring(id.indexOf(':') + 1), "BIND", "127.0.0.1",
        "DATA_DIR", ":memory:", "LOG_LEVEL", "loud"), java(), "-jar", jar());
    assertEquals(2, bad.code(), bad.toString());
    assertEquals(1, bad.err().lines().count(), bad.err());
    assertTrue(bad.err().startsWith("causalkv: LOG_LEVEL must be error, warn, info, debug or trace"), bad.err());
    try (NodeProcess quiet = new NodeProcess(id, List.of(id), tmp.resolve("q"),
        Map.of("DATA_DIR", ":memory:", "LOG_LEVEL", "warn"), List.of()).start()) {
      assertEquals(200, quiet.put("k", "v", "").status());
      assertFalse(quiet.log().contains("INFO"), "warn hides the info lines: " + quiet.log());
    }
  }
}
