package dev.causalkv.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/cluster} as a new user runs it: up reports a node that never answers as a failure,
 * status shows each node's view, keys and peers, down returns once the processes have exited,
 * and the port base keeps clear of the harness's ports. Ports come from 26000-29999 (clear of
 * bin/cluster's default 8081, the Docker tier's 808x and the harness's 20000-24999).
 */
@Timeout(240)
class BinClusterIT {

  @TempDir Path tmp;

  record Exit(int code, String out, String err) {}

  Exit cluster(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of("bin/cluster"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    Map<String, String> e = new HashMap<>(env);
    e.putIfAbsent("CLUSTER_STATE_DIR", tmp.resolve("state").toString());
    e.putIfAbsent("DATA_DIR_ROOT", ":memory:");
    pb.environment().putAll(e);
    String javaBin = System.getProperty("java.home") + File.separator + "bin";
    pb.environment().put("PATH", javaBin + File.pathSeparator + System.getenv("PATH"));
    Path out = tmp.resolve("out" + System.nanoTime());
    Path err = tmp.resolve("err" + System.nanoTime());
    Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "bin/cluster " + String.join(" ", args) + " finishes");
    return new Exit(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
  }

  /** A base with {@code n} free consecutive ports in 26000-29999. */
  static int freeBase(int n) {
    for (int attempt = 0; attempt < 200; attempt++) {
      int base = 26000 + (int) (Math.random() * 3900);
      boolean free = true;
      for (int i = 0; i < n && free; i++) {
        try (ServerSocket s = new ServerSocket(base + i, 1, java.net.InetAddress.getLoopbackAddress())) {
          s.setReuseAddress(true);
        } catch (IOException taken) {
          free = false;
        }
      }
      if (free) return base;
    }
    throw new AssertionError("no free ports in 26000-29999");
  }

  static List<Long> pids(Path state) throws IOException {
    List<Long> out = new java.util.ArrayList<>();
    try (var s = Files.list(state)) {
      for (Path f : s.filter(p -> p.toString().endsWith(".pid")).toList()) out.add(Long.parseLong(Files.readString(f).trim()));
    }
    return out;
  }

  @Test
  void upStatusDownWithAPortBase() throws Exception {
    int base = freeBase(2);
    Map<String, String> env = Map.of("CLUSTER_PORT_BASE", String.valueOf(base));
    Exit up = cluster(env, "up", "2");
    try {
      assertEquals(0, up.code(), up.toString());
      assertTrue(up.out().contains("cluster up: VIEW=127.0.0.1:" + base + ",127.0.0.1:" + (base + 1)), up.out());
      List<Long> pids = pids(tmp.resolve("state"));
      assertEquals(2, pids.size());
      Exit again = cluster(env, "up", "2");
      assertEquals(1, again.code(), "one cluster at a time: " + again);

      Exit status = cluster(env, "status");
      assertEquals(0, status.code(), status.toString());
      assertTrue(status.out().contains("node1  127.0.0.1:" + base + "  pid " + pids.get(0) + "  running")
          || status.out().contains("running"), status.out());
      for (String h : List.of("NODE", "KEYS", "PEERS UP", "VIEW", "127.0.0.1:" + base, "127.0.0.1:" + (base + 1), "1/1", "2 members")) {
        assertTrue(status.out().contains(h), h + " in: " + status.out());
      }
      assertFalse(status.out().contains("\u001b["), "no colour codes");
    } finally {
      long t0 = System.nanoTime();
      List<Long> pids = pids(tmp.resolve("state"));
      Exit down = cluster(env, "down");
      assertEquals(0, down.code(), down.toString());
      for (long pid : pids) {
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "pid " + pid + " has exited when down returns");
      }
      assertTrue(down.out().contains("stopped 2 node(s)"), down.out());
      assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(30));
    }
  }

  @Test
  void aNodeThatNeverAnswersIsAFailure() throws Exception {
    int base = freeBase(1);
    // a JVM that cannot start: the node exits at once
    Map<String, String> env = Map.of("CLUSTER_PORT_BASE", String.valueOf(base), "JAVA_OPTS", "-Xmx1k");
    try {
      Exit up = cluster(env, "up", "1");
      assertEquals(1, up.code(), up.toString());
      assertTrue(up.err().contains("node1 (127.0.0.1:" + base + ") exited; last log lines:"), up.err());
      assertTrue(up.err().contains("cluster up FAILED"), up.err());
    } finally {
      cluster(env, "down");
    }
  }

  @Test
  void portBasesAreChecked() throws Exception {
    Exit harness = cluster(Map.of("CLUSTER_PORT_BASE", "20040"), "up", "3");
    assertEquals(2, harness.code());
    assertTrue(harness.err().contains("overlap 20000-24999"), harness.err());
    Exit below = cluster(Map.of("CLUSTER_PORT_BASE", "19999"), "up", "3");
    assertEquals(2, below.code(), "19999..20001 reaches into the harness's range");
    Exit junk = cluster(Map.of("CLUSTER_PORT_BASE", "eighty"), "up", "1");
    assertEquals(2, junk.code());
    try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Exit busy = cluster(Map.of("CLUSTER_PORT_BASE", String.valueOf(taken.getLocalPort())), "up", "1");
      assertEquals(1, busy.code());
      assertTrue(busy.err().contains("is already in use"), busy.err());
    }
    assertEquals(1, cluster(Map.of(), "status").code(), "no cluster");
  }
}
