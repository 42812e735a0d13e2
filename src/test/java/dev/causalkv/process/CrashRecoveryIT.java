package dev.causalkv.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Durability of real node processes (docs/design.md §7): SIGKILL under concurrent writes loses no
 * acknowledged write and never reuses a dot; a whole cluster restarts with its data and its
 * run-time view; a node whose data directory is lost comes back as a fresh origin and catches up.
 */
class CrashRecoveryIT {

  static final List<String> JVM = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
  static final String[] SYNC_MODES = {"batch", "always", "never"};

  Path root;
  final List<NodeProcess> started = new ArrayList<>();

  @BeforeEach
  void dirs() throws Exception {
    root = Files.createTempDirectory(Path.of("/tmp"), "ckv-durable-it-");
  }

  @AfterEach
  void cleanup() throws Exception {
    for (NodeProcess n : started) n.kill9();
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  NodeProcess node(String id, List<String> view, String dir, String sync) {
    NodeProcess n = new NodeProcess(id, view, root.resolve(dir), Map.of("SYNC", sync), JVM);
    started.add(n);
    return n;
  }

  static String origin(NodeProcess n) throws Exception {
    return n.state().get("origin").getAsString();
  }

  /** The counter of {@code origin} in the answer's payload token (read, not checked: the seal key is the node's own). */
  static long payloadSeq(JsonObject reply, String origin) {
    return dev.causalkv.wire.PayloadCodec.peek(reply.get("payload").getAsString()).get(origin);
  }

  /** key → visible value (null for a tombstone) from /admin/state. */
  static Map<String, String> visible(JsonObject state) {
    Map<String, String> out = new java.util.TreeMap<>();
    for (Map.Entry<String, JsonElement> e : state.getAsJsonObject("keys").entrySet()) {
      JsonElement v = e.getValue().getAsJsonObject().get("visible");
      out.put(e.getKey(), v.isJsonNull() ? null : v.getAsString());
    }
    return out;
  }

  static JsonElement siblings(JsonObject state) {
    return state.get("keys");
  }

  static void awaitConverged(List<NodeProcess> nodes, long seconds) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    JsonElement first = null;
    boolean same = false;
    while (System.nanoTime() < deadline) {
      first = siblings(nodes.get(0).state());
      same = true;
      for (NodeProcess n : nodes.subList(1, nodes.size())) same &= first.equals(siblings(n.state()));
      if (same) return;
      Thread.sleep(100);
    }
    fail("not converged after " + seconds + " s");
  }

  /** One writer: its own keys, written in order with increasing values, carrying its session payload. */
  final class Writer implements Runnable {
    final int index;
    final NodeProcess target;
    final Map<String, Integer> acked = new ConcurrentHashMap<>();
    final Set<Long> ackedSeqs = ConcurrentHashMap.newKeySet();
    final AtomicInteger next = new AtomicInteger();
    final AtomicReference<String> failure = new AtomicReference<>();
    volatile String payload = "";
    volatile boolean paused;
    volatile boolean stopped;
    final String origin;

    Writer(int index, NodeProcess target, String origin) {
      this.index = index;
      this.target = target;
      this.origin = origin;
    }

    @Override
    public void run() {
      while (!stopped) {
        if (paused) {
          sleep(5);
          continue;
        }
        int n = next.incrementAndGet();
        String key = "w" + index + "-" + (n % 40);
        NodeProcess.Reply r;
        try {
          r = target.put(key, Integer.toString(n), payload);
        } catch (Exception crashed) {
          continue; // in flight at the kill: its fate is unknown, nothing was promised
        }
        if (r.status() != 200 && r.status() != 201) {
          failure.compareAndSet(null, "PUT " + key + " answered " + r.status() + " " + r.json());
          continue;
        }
        payload = r.json().get("payload").getAsString();
        acked.merge(key, n, Math::max);
        long seq = payloadSeq(r.json(), origin);
        if (!ackedSeqs.add(seq)) failure.compareAndSet(null, "dot " + origin + ":" + seq + " acknowledged twice");
      }
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void killNineUnderConcurrentWritesLosesNoAcknowledgedWrite() throws Exception {
    String idA = NodeProcess.freeId();
    String idB = NodeProcess.freeId();
    List<String> view = List.of(idA, idB);
    NodeProcess b = node(idB, view, "b", "batch").start();
    NodeProcess a = node(idA, view, "a", "batch").start();
    String originA = origin(a);
    String originB = origin(b);
    List<Writer> writers = new ArrayList<>();
    for (int i = 0; i < 4; i++) writers.add(new Writer(i, a, originA));
    writers.add(new Writer(4, b, originB));
    List<Thread> threads = new ArrayList<>();
    for (Writer w : writers) {
      Thread t = new Thread(w, "writer-" + w.index);
      t.start();
      threads.add(t);
    }
    Random rnd = new Random(42);
    int kills = 0;
    long maxAckedSeq = 0;
    try {
      for (int cycle = 0; cycle < 21; cycle++) {
        Thread.sleep(150 + rnd.nextInt(500));
        a.kill9();
        kills++;
        for (Writer w : writers.subList(0, 4)) w.paused = true;
        // Restart with the next sync mode: every mode must survive a process crash.
        String sync = SYNC_MODES[cycle % SYNC_MODES.length];
        a = new NodeProcess(idA, view, a.dataDir, Map.of("SYNC", sync), JVM);
        started.add(a);
        a.start();
        JsonObject st = a.state();
        assertEquals(originA, st.get("origin").getAsString(), "same origin after restart");
        long ownSeq = st.get("ownSeq").getAsLong();
        Map<String, String> vis = visible(st);
        for (Writer w : writers.subList(0, 4)) {
          for (Map.Entry<String, Integer> e : w.acked.entrySet()) {
            String v = vis.get(e.getKey());
            assertTrue(v != null && Integer.parseInt(v) >= e.getValue(),
                "cycle " + cycle + ": acknowledged " + e.getKey() + "=" + e.getValue() + " but found " + v);
          }
          for (long s : w.ackedSeqs) maxAckedSeq = Math.max(maxAckedSeq, s);
        }
        assertTrue(ownSeq >= maxAckedSeq, "seq counter " + ownSeq + " below an acknowledged dot " + maxAckedSeq);
        // Writers address the node by id: the restarted process serves them on the same port.
        for (Writer w : writers.subList(0, 4)) w.paused = false;
      }
    } finally {
      for (Writer w : writers) w.stopped = true;
      for (Thread t : threads) t.join(30_000);
    }
    assertTrue(kills >= 20);
    for (Writer w : writers) {
      assertEquals(null, w.failure.get());
      assertTrue(w.acked.size() > 0, "writer " + w.index + " made progress");
    }
    // Every new write got a seq above every one acknowledged before any crash.
    NodeProcess.Reply r = a.put("after", "x", "");
    assertTrue(payloadSeq(r.json(), originA) > maxAckedSeq);
    // The two nodes converge, and both hold every acknowledged write (or a later one).
    awaitConverged(List.of(a, b), 30);
    for (NodeProcess n : List.of(a, b)) {
      Map<String, String> vis = visible(n.state());
      for (Writer w : writers) {
        for (Map.Entry<String, Integer> e : w.acked.entrySet()) {
          String v = vis.get(e.getKey());
          assertTrue(v != null && Integer.parseInt(v) >= e.getValue(), n.id + ": " + e.getKey() + " lost");
        }
      }
    }
    int total = writers.stream().mapToInt(w -> w.ackedSeqs.size()).sum();
    System.out.println("kill -9 test: " + kills + " kills, " + total + " acknowledged writes checked");
  }

  @Test
  void wholeClusterRestartsAtOnceWithItsDataAndRunTimeView() throws Exception {
    List<String> ids = List.of(NodeProcess.freeId(), NodeProcess.freeId(), NodeProcess.freeId());
    String idD = NodeProcess.freeId();
    List<NodeProcess> nodes = new ArrayList<>();
    for (int i = 0; i < 3; i++) nodes.add(node(ids.get(i), ids, "n" + i, "batch").start());
    List<String> withD = new ArrayList<>(ids);
    withD.add(idD);
    NodeProcess d = node(idD, withD, "d", "batch").start();
    assertEquals(200, nodes.get(0).send("PUT", "/view", "ip_port", idD).status());
    nodes.add(d);

    Map<String, String> expected = new java.util.TreeMap<>();
    for (int i = 0; i < 200; i++) {
      NodeProcess n = nodes.get(i % 4);
      NodeProcess.Reply r = n.put("key" + i, "value" + i, "");
      assertTrue(r.status() == 200, r.json().toString());
      expected.put("key" + i, "value" + i);
    }
    for (int i = 0; i < 200; i += 10) {
      NodeProcess n = nodes.get((i + 1) % 4);
      NodeProcess.Reply r = n.put("key" + i, "changed" + i, "");
      assertTrue(r.status() == 200 || r.status() == 201, r.json().toString());
      expected.put("key" + i, "changed" + i);
    }
    awaitConverged(nodes, 30);
    Map<String, String> before = visible(nodes.get(0).state());
    // Everyone dies at once, then restarts with the VIEW it was first given (d not in the first three's).
    for (NodeProcess n : nodes) n.kill9();
    List<NodeProcess> again = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      NodeProcess n = new NodeProcess(ids.get(i), ids, root.resolve("n" + i), Map.of(), JVM);
      started.add(n);
      again.add(n);
    }
    NodeProcess d2 = new NodeProcess(idD, withD, root.resolve("d"), Map.of(), JVM);
    started.add(d2);
    again.add(d2);
    for (NodeProcess n : again) n.start();
    for (NodeProcess n : again) {
      Map<String, String> vis = visible(n.state());
      assertEquals(before, vis, n.id + " holds everything right after restart");
      String view = n.send("GET", "/view").json().get("view").getAsString();
      assertEquals(new HashSet<>(withD), new HashSet<>(List.of(view.split(","))), n.id + " kept the run-time view");
    }
    for (Map.Entry<String, String> e : expected.entrySet()) assertEquals(e.getValue(), before.get(e.getKey()));
    // And the cluster still works: a write anywhere reaches everyone.
    assertEquals(200, again.get(3).put("late", "1", "").status());
    awaitConverged(again, 30);
  }

  @Test
  void lostDataDirectoryComesBackAsFreshOriginAndCatchesUp() throws Exception {
    String idA = NodeProcess.freeId();
    String idB = NodeProcess.freeId();
    List<String> view = List.of(idA, idB);
    NodeProcess a = node(idA, view, "a", "batch").start();
    NodeProcess b = node(idB, view, "b", "batch").start();
    String oldOrigin = origin(a);
    String session = "";
    for (int i = 0; i < 30; i++) {
      NodeProcess.Reply r = a.put("x" + i, "old" + i, session);
      session = r.json().get("payload").getAsString();
    }
    for (int i = 0; i < 10; i++) assertTrue(b.put("y" + i, "b" + i, "").status() == 200);
    awaitConverged(List.of(a, b), 30);

    a.kill9();
    try (Stream<Path> s = Files.walk(a.dataDir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
    a = new NodeProcess(idA, view, a.dataDir, Map.of(), JVM);
    started.add(a);
    a.start();
    String newOrigin = origin(a);
    assertNotEquals(oldOrigin, newOrigin, "a lost data directory means a fresh origin");
    // A write made at once by the new incarnation, before catching up, is not shadowed.
    NodeProcess.Reply early = a.put("x0", "new0", "");
    assertEquals(1, payloadSeq(early.json(), newOrigin), "the fresh origin starts at seq 1");
    awaitConverged(List.of(a, b), 30);
    // The client session still carries the old incarnation's dots; the new node accepts it.
    NodeProcess.Reply r = a.put("x1", "new1", session);
    assertTrue(r.status() == 201, r.json().toString());
    awaitConverged(List.of(a, b), 30);
    for (NodeProcess n : List.of(a, b)) {
      Map<String, String> vis = visible(n.state());
      assertEquals("new0", vis.get("x0"), n.id);
      assertEquals("new1", vis.get("x1"), n.id);
      for (int i = 2; i < 30; i++) assertEquals("old" + i, vis.get("x" + i), n.id + " kept the old incarnation's write");
      for (int i = 0; i < 10; i++) assertEquals("b" + i, vis.get("y" + i), n.id);
      NodeProcess.Reply read = n.get("x5", r.json().get("payload").getAsString());
      assertEquals(200, read.status(), read.json().toString());
    }
  }
}
