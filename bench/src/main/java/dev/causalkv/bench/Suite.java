package dev.causalkv.bench;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.hazelcast.core.HazelcastInstance;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The whole benchmark run: baselines and the store under the same generator, in one go,
 * each phase writing into one JSON document that {@link Report} turns into BENCHMARKS.md
 * and charts. Every phase is bounded in time; a phase that fails is recorded as failed and
 * the run goes on.
 */
final class Suite {
  private final Path repo;
  private final Path work;
  private final Path nodeJar;
  private final Path benchJar;
  private final boolean quick;
  private final long warmupMs;
  private final long measureMs;
  private final JsonObject out = new JsonObject();
  private final JsonArray noise = new JsonArray();
  private final JsonObject errors = new JsonObject();
  private final List<String> only;
  private static final int KEYS = 10_000;
  private static final int VALUE = 100;
  private static final int CONNS = 32;

  Suite(Path repo, boolean quick, List<String> only) {
    this.repo = repo;
    this.work = repo.resolve("bench/work");
    this.nodeJar = repo.resolve("target/causalkv.jar");
    this.benchJar = repo.resolve("bench/target/causalkv-bench.jar");
    this.quick = quick;
    this.warmupMs = quick ? 2000 : 3000;
    this.measureMs = quick ? 4000 : 6000;
    this.only = only;
  }

  static void main(String[] args) throws Exception {
    boolean quick = false;
    Path repo = Path.of("").toAbsolutePath();
    List<String> only = new ArrayList<>();
    boolean reportOnly = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--quick": quick = true; break;
        case "--repo": repo = Path.of(args[++i]).toAbsolutePath(); break;
        case "--only": only.addAll(List.of(args[++i].split(","))); break;
        case "--report-only": reportOnly = true; break;
        default: throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    Suite s = new Suite(repo, quick, only);
    if (!reportOnly) s.runAll();
    Report.write(repo, JsonParser.parseString(Files.readString(repo.resolve("bench/work/results.json"))).getAsJsonObject());
  }

  interface Phase { void run() throws Exception; }

  /** Every phase, in run order. Later phases reuse earlier results (e.g. open-loop rates). */
  private Map<String, Phase> phases() {
    Map<String, Phase> m = new java.util.LinkedHashMap<>();
    m.put("single", this::single);
    m.put("redis", this::redis);
    m.put("durable", this::durable);
    m.put("scale", this::scale);
    m.put("hazelcast", this::hazelcast);
    m.put("openloop", this::openLoop);
    m.put("lag", this::lag);
    m.put("wire", this::wire);
    m.put("memory", this::memory);
    m.put("blocked", this::blocked);
    m.put("partition", this::partition);
    m.put("join", this::join);
    m.put("jmh", this::jmh);
    return m;
  }

  private void phase(String name, Phase p) {
    if (!only.isEmpty() && !only.contains(name)) return;
    JsonObject n = new JsonObject();
    n.addProperty("phase", name);
    n.addProperty("loadavg", loadavg());
    noise.add(n);
    long t0 = System.currentTimeMillis();
    System.err.println("== " + name + "  (load average " + loadavg() + ")");
    try {
      p.run();
    } catch (Throwable t) {
      t.printStackTrace();
      errors.addProperty(name, t.toString());
    } finally {
      Procs.stopAll();
      n.addProperty("seconds", (System.currentTimeMillis() - t0) / 1000.0);
      save();
    }
  }

  void runAll() throws Exception {
    Files.createDirectories(work);
    if (!Files.exists(nodeJar)) throw new IllegalStateException("build the node first: " + nodeJar);
    Path prev = work.resolve("results.json");
    if (!only.isEmpty() && Files.exists(prev)) {
      rerun(JsonParser.parseString(Files.readString(prev)).getAsJsonObject());
      return;
    }
    long start = System.currentTimeMillis();
    out.addProperty("started", Instant.now().toString());
    out.addProperty("quick", quick);
    out.addProperty("warmupMs", warmupMs);
    out.addProperty("measureMs", measureMs);
    out.add("machine", machine());
    out.add("noise", noise);
    out.add("errors", errors);
    for (Map.Entry<String, Phase> e : phases().entrySet()) phase(e.getKey(), e.getValue());
    out.addProperty("totalSeconds", (System.currentTimeMillis() - start) / 1000.0);
    out.addProperty("loadavgEnd", loadavg());
    save();
  }

  /**
   * Re-runs only the phases named by --only inside an existing results.json: the earlier result of
   * each phase is kept beside it as "PHASE@previous" and the report shows both, with load averages.
   */
  private void rerun(JsonObject prev) throws Exception {
    for (String k : prev.keySet()) out.add(k, prev.get(k));
    JsonArray oldNoise = prev.getAsJsonArray("noise");
    JsonArray kept = new JsonArray();
    for (JsonElement e : oldNoise) {
      String ph = e.getAsJsonObject().get("phase").getAsString();
      if (only.contains(ph)) { JsonObject o = e.getAsJsonObject().deepCopy(); o.addProperty("phase", ph + "@previous"); kept.add(o); }
      else kept.add(e);
    }
    for (String ph : only) if (prev.has(ph)) out.add(ph + "@previous", prev.get(ph));
    noise.addAll(kept);
    out.add("noise", noise);
    out.add("errors", prev.has("errors") ? prev.get("errors") : errors);
    for (String ph : only) {
      Phase p = phases().get(ph);
      if (p == null) throw new IllegalArgumentException("unknown phase " + ph + "; phases: " + phases().keySet());
      phase(ph, p);
    }
    save();
  }

  private void save() {
    try {
      Files.writeString(work.resolve("results.json"), new GsonBuilder().setPrettyPrinting().create().toJson(out));
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }

  // ---------------------------------------------------------------- helpers

  private Result load(String label, List<InetSocketAddress> targets, String mix, int conns, double rate, long keys, int value,
      boolean zipf, String prefix, String fixedPayload) throws Exception {
    LoadEngine.Config c = new LoadEngine.Config();
    c.label = label;
    c.targets = targets;
    c.connections = conns;
    c.ratePerSec = rate;
    c.workload = new Workload(mix, zipf, keys, value, prefix);
    c.fixedPayload = fixedPayload;
    if (mix.equals("load")) { c.maxOps = keys; c.warmupMs = 0; c.durationMs = 600_000; c.progress = false; }
    else { c.warmupMs = warmupMs; c.durationMs = measureMs; }
    Result r = new LoadEngine(c).run();
    if (!mix.equals("load")) System.err.println("   " + r.oneLine());
    return r;
  }

  private Result run(String label, List<InetSocketAddress> t, String mix, int conns, int value, boolean zipf) throws Exception {
    return load(label, t, mix, conns, 0, KEYS, value, zipf, "k", null);
  }

  /** An unrecorded balanced run so the server's JIT has compiled the hot paths before measuring. */
  private void jitWarmUp(String who, List<InetSocketAddress> t) throws Exception {
    LoadEngine.Config c = new LoadEngine.Config();
    c.label = who + " JIT warm-up (not recorded)";
    c.targets = t;
    c.connections = CONNS;
    c.workload = new Workload("mix50", false, KEYS, VALUE, "k");
    c.warmupMs = quick ? 3000 : 4000;
    c.durationMs = 100;
    c.progress = false;
    new LoadEngine(c).run();
  }

  private void preload(List<InetSocketAddress> t, long keys, int value, String prefix) throws Exception {
    long t0 = System.nanoTime();
    Result r = load("preload", t, "load", CONNS, 0, keys, value, false, prefix, null);
    System.err.printf("   preloaded %,d keys in %.1fs%n", keys, (System.nanoTime() - t0) / 1e9);
  }

  private Process startBare(int port) throws Exception {
    return startBare(port, "--dispatch=0");
  }

  private Process startBare(int port, String mode) throws Exception {
    Process p = Procs.start(List.of("java", "-cp", benchJar.toString(), "dev.causalkv.bench.BenchMain", "bare-server",
        Integer.toString(port), mode), Map.of(), work.resolve("bare.log"));
    long deadline = System.currentTimeMillis() + 30_000;
    while (!Http.up("127.0.0.1:" + port)) {
      if (System.currentTimeMillis() > deadline || !p.isAlive()) throw new IllegalStateException("bare server did not start");
      Thread.sleep(100);
    }
    return p;
  }

  private Cluster cluster(int n, int basePort, String dataMode, Map<String, String> env) throws Exception {
    Cluster c = new Cluster(nodeJar, work, false, dataMode, env, null);
    c.define(n, basePort);
    c.startAll();
    return c;
  }

  private static List<InetSocketAddress> one(String hostPort) {
    int i = hostPort.lastIndexOf(':');
    return List.of(new InetSocketAddress(hostPort.substring(0, i), Integer.parseInt(hostPort.substring(i + 1))));
  }

  private static String loadavg() {
    try { return Files.readString(Path.of("/proc/loadavg")).trim(); } catch (Exception e) { return "?"; }
  }

  private JsonObject machine() {
    JsonObject m = new JsonObject();
    m.addProperty("cpu", Procs.run("sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").trim());
    m.addProperty("cores", Runtime.getRuntime().availableProcessors());
    m.addProperty("memory", Procs.run("sh", "-c", "grep MemTotal /proc/meminfo | awk '{printf \"%.1f GiB\", $2/1048576}'"));
    m.addProperty("kernel", Procs.run("uname", "-sr"));
    m.addProperty("os", Procs.run("sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"));
    m.addProperty("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    m.addProperty("loadavgStart", loadavg());
    m.addProperty("nodeCommit", Procs.run("git", "-C", repo.toString(), "rev-parse", "--short", "HEAD"));
    return m;
  }

  // ---------------------------------------------------------------- phases

  private static final String[][] MIXES = {
      {"GET only", "read"}, {"PUT only", "write"}, {"read-heavy 95/5", "read95"}, {"balanced 50/50", "mix50"},
      {"delete-heavy 40/40/20", "delete"}};

  /** One node (memory engine) beside the bare Undertow baseline: every mix, zipfian, value sizes. */
  private void single() throws Exception {
    JsonObject res = new JsonObject();
    out.add("single", res);
    List<Integer> sizes = quick ? List.of(10, 10_000) : List.of(10, 1_000, 100_000);
    // bare baseline
    Process bare = startBare(18080);
    List<InetSocketAddress> bt = one("127.0.0.1:18080");
    JsonObject b = new JsonObject();
    res.add("bare", b);
    preload(bt, KEYS, VALUE, "k");
    runMatrix(b, bt, sizes, "bare");
    Procs.stop(bare);
    // the same baseline answering on a worker pool instead of the I/O thread, as the node does
    JsonObject disp = new JsonObject();
    res.add("bareDispatch", disp);
    for (int threads : new int[] {16, 2}) {
      Process p = startBare(18080, "--dispatch=" + threads);
      preload(bt, KEYS, VALUE, "k");
      jitWarmUp("bare dispatch " + threads, bt);
      disp.add(Integer.toString(threads), run("bare, " + threads + "-thread pool, read95", bt, "read95", CONNS, VALUE, false).toJson());
      Procs.stop(p);
    }
    // our node
    try (Cluster c = cluster(1, 18100, ":memory:", null)) {
      List<InetSocketAddress> t = c.addrs();
      JsonObject o = new JsonObject();
      res.add("node", o);
      preload(t, KEYS, VALUE, "k");
      runMatrix(o, t, sizes, "node");
    }
  }

  private void runMatrix(JsonObject into, List<InetSocketAddress> t, List<Integer> sizes, String who) throws Exception {
    jitWarmUp(who, t);
    if (Procs.onPath("wrk")) { // calibration: the same GET with wrk, after the JIT warm-up
      InetSocketAddress a = t.get(0);
      String w = Procs.run("wrk", "-t2", "-c" + CONNS, "-d" + (measureMs / 1000) + "s",
          "http://" + a.getHostString() + ":" + a.getPort() + "/keyValue-store/k1");
      java.util.regex.Matcher mm = java.util.regex.Pattern.compile("Requests/sec:\\s+([0-9.]+)").matcher(w);
      if (mm.find()) into.addProperty("wrkGetRps", Double.parseDouble(mm.group(1)));
    }
    JsonObject mixes = new JsonObject();
    into.add("mixes", mixes);
    for (String[] m : MIXES) {
      if (m[1].equals("delete")) continue; // last: it empties keys
      Result r = run(who + " " + m[1], t, m[1], CONNS, VALUE, false);
      mixes.add(m[1], r.toJson());
      if (m[1].equals("read95")) into.add("cdfClosed", r.cdf());
    }
    Result z = run(who + " read95 zipf", t, "read95", CONNS, VALUE, true);
    mixes.add("read95-zipf", z.toJson());
    Result dz = run(who + " delete", t, "delete", CONNS, VALUE, false);
    mixes.add("delete", dz.toJson());
    JsonObject vs = new JsonObject();
    into.add("valueSizes", vs);
    for (int size : sizes) {
      preload(t, 1000, size, "v" + size + "_");
      Result r = load(who + " mix50 " + size + "B", t, "mix50", CONNS, 0, 1000, size, false, "v" + size + "_", null);
      vs.add(Integer.toString(size), r.toJson());
    }
  }

  private void redis() throws Exception {
    JsonObject r = new JsonObject();
    out.add("redis", r);
    if (!RedisBaseline.available()) {
      r.addProperty("skipped", "redis-server / redis-benchmark not installed (apt-get install redis-server)");
      return;
    }
    int n = (int) (quick ? 200_000 : 500_000);
    Map<String, Double> m = RedisBaseline.run(work, CONNS, VALUE, KEYS, n);
    m.forEach(r::addProperty);
    r.addProperty("requests", n);
    System.err.println("   redis " + m);
  }

  /** One node with the durable engine, per sync mode (if the node has a durable engine). */
  private void durable() throws Exception {
    JsonObject res = new JsonObject();
    out.add("durable", res);
    for (String sync : new String[] {"batch", "always", "never"}) {
      try (Cluster c = cluster(1, 18110, "disk", Map.of("SYNC", sync))) {
        List<InetSocketAddress> t = c.addrs();
        preload(t, KEYS, VALUE, "k");
        long du = Procs.duBytes(c.nodes.get(0).dataDir);
        if (du <= 4096 * 2) {
          res.addProperty("skipped", "node wrote nothing to DATA_DIR (" + du + " bytes after " + KEYS
              + " writes): no durable engine in this build");
          return;
        }
        jitWarmUp("durable " + sync, t);
        JsonObject s = new JsonObject();
        res.add(sync, s);
        s.add("write", run("durable " + sync + " write", t, "write", CONNS, VALUE, false).toJson());
        s.add("read", run("durable " + sync + " read", t, "read", CONNS, VALUE, false).toJson());
        if (!quick) s.add("read95", run("durable " + sync + " read95", t, "read95", CONNS, VALUE, false).toJson());
        if (quick) break;
      }
    }
  }

  /** Throughput vs node count: load spread over all nodes. */
  private void scale() throws Exception {
    JsonObject res = new JsonObject();
    out.add("scale", res);
    for (int n : new int[] {3, 5}) {
      try (Cluster c = cluster(n, 18200 + n * 10, ":memory:", null)) {
        List<InetSocketAddress> t = c.addrs();
        preload(t, KEYS, VALUE, "k");
        jitWarmUp(n + " nodes", t);
        JsonObject s = new JsonObject();
        res.add(Integer.toString(n), s);
        for (String mix : new String[] {"read95", "write", "read", "mix50"}) {
          Result r = run(n + " nodes " + mix, t, mix, CONNS, VALUE, false);
          s.add(mix, r.toJson());
          if (mix.equals("read95")) s.add("cdfClosed", r.cdf());
        }
      }
    }
  }

  /** 3 Hazelcast ReplicatedMap members vs 3 of our nodes, 16 synchronous clients each. */
  private void hazelcast() throws Exception {
    JsonObject res = new JsonObject();
    out.add("hazelcast", res);
    int clients = 16;
    String[] mixes = {"write", "read", "read95", "mix50"};
    List<Process> members = new ArrayList<>();
    HazelcastInstance hz = null;
    try {
      for (int i = 0; i < 3; i++) {
        members.add(Procs.start(List.of("java", "-cp", benchJar.toString(), "dev.causalkv.bench.BenchMain", "hz-member",
            Integer.toString(i), "3"), Map.of(), work.resolve("hz-" + i + ".log")));
      }
      hz = HazelcastBaseline.client(3);
      long deadline = System.currentTimeMillis() + 60_000;
      while (hz.getCluster().getMembers().size() < 3 && System.currentTimeMillis() < deadline) Thread.sleep(200);
      res.addProperty("members", hz.getCluster().getMembers().size());
      Workload pre = new Workload("load", false, KEYS, VALUE, "k");
      HazelcastBaseline.preload(hz, pre);
      HazelcastBaseline.run(hz, "hazelcast JIT warm-up", new Workload("mix50", false, KEYS, VALUE, "k"), clients, 0, quick ? 3000 : 5000);
      JsonObject h = new JsonObject();
      res.add("hz", h);
      for (String mix : mixes) {
        Result r = HazelcastBaseline.run(hz, "hazelcast " + mix, new Workload(mix, false, KEYS, VALUE, "k"), clients, warmupMs, measureMs);
        System.err.println("   " + r.oneLine());
        h.add(mix, r.toJson());
      }
    } finally {
      if (hz != null) hz.shutdown();
      for (Process p : members) Procs.stop(p);
    }
    try (Cluster c = cluster(3, 18300, ":memory:", null)) {
      List<InetSocketAddress> t = c.addrs();
      preload(t, KEYS, VALUE, "k");
      jitWarmUp("3 nodes", t);
      JsonObject o = new JsonObject();
      res.add("ours", o);
      for (String mix : mixes) o.add(mix, run("3 nodes " + mix + " x16", t, mix, clients, VALUE, false).toJson());
    }
  }

  private double maxRate(String path, String mix) {
    try {
      JsonElement e = out;
      for (String p : path.split("\\.")) e = e.getAsJsonObject().get(p);
      return e.getAsJsonObject().get(mix).getAsJsonObject().get("opsPerSec").getAsDouble();
    } catch (Exception ex) {
      return 0;
    }
  }

  /** Open-loop latency (no coordinated omission) at half of the node's measured maximum. */
  private void openLoop() throws Exception {
    JsonObject res = new JsonObject();
    out.add("openloop", res);
    double max1 = maxRate("single.node.mixes", "read95");
    if (max1 <= 0) max1 = 4000;
    double rate = Math.max(200, Math.floor(max1 / 2 / 100) * 100);
    res.addProperty("rate", rate);
    Process bare = startBare(18080);
    preload(one("127.0.0.1:18080"), KEYS, VALUE, "k");
    jitWarmUp("bare", one("127.0.0.1:18080"));
    Result rb = load("bare open " + (int) rate + "/s", one("127.0.0.1:18080"), "read95", CONNS, rate, KEYS, VALUE, false, "k", null);
    res.add("bare", rb.toJson());
    res.add("bareCdf", rb.cdf());
    Procs.stop(bare);
    double max3 = maxRate("scale.3", "read95");
    double rate3 = max3 > 0 ? Math.max(200, Math.floor(max3 / 2 / 100) * 100) : rate;
    res.addProperty("rate3", rate3);
    for (int n : new int[] {1, 3}) {
      double rn = n == 1 ? rate : rate3;
      try (Cluster c = cluster(n, 18400 + n * 10, ":memory:", null)) {
        preload(c.addrs(), KEYS, VALUE, "k");
        jitWarmUp(n + " nodes", c.addrs());
        Result r = load(n + " node open " + (int) rn + "/s", c.addrs(), "read95", CONNS, rn, KEYS, VALUE, false, "k", null);
        res.add("node" + n, r.toJson());
        res.add("node" + n + "Cdf", r.cdf());
      }
    }
  }

  /** Replication lag on 3 nodes under mix50 load at half the measured 3-node maximum. */
  private void lag() throws Exception {
    JsonObject res = new JsonObject();
    out.add("lag", res);
    double max3 = maxRate("scale.3", "mix50");
    if (max3 <= 0) max3 = 4000;
    double rate = Math.max(200, Math.floor(max3 / 2 / 100) * 100);
    res.addProperty("backgroundRate", rate);
    res.addProperty("backgroundMix", "mix50");
    try (Cluster c = cluster(3, 18500, ":memory:", null)) {
      preload(c.addrs(), KEYS, VALUE, "k");
      jitWarmUp("3 nodes", c.addrs());
      // idle lag first, then under load
      for (String mode : new String[] {"idle", "loaded"}) {
        int secs = (int) (measureMs / 1000);
        LagProbe p = new LagProbe(c.nodes.get(0).id, List.of(c.nodes.get(1).id, c.nodes.get(2).id), "lagprobe-" + mode, 200, 200 * (secs + 10));
        p.start();
        if (mode.equals("loaded")) {
          Result r = load("background mix50 " + (int) rate + "/s", c.addrs(), "mix50", CONNS, rate, KEYS, VALUE, false, "k", null);
          res.add("background", r.toJson());
        } else {
          Thread.sleep(measureMs);
        }
        Thread.sleep(500);
        p.stopAndJoin();
        List<LagProbe.Sample> s = p.samples();
        double from = mode.equals("loaded") ? warmupMs : 0;
        double[] sum = LagProbe.summary(s, from, Double.MAX_VALUE);
        JsonObject l = new JsonObject();
        l.addProperty("p50ms", Result.round(sum[0]));
        l.addProperty("p99ms", Result.round(sum[1]));
        l.addProperty("maxms", Result.round(sum[2]));
        l.addProperty("samples", (long) sum[3]);
        l.addProperty("unseen", (long) sum[4]);
        res.add(mode, l);
        System.err.printf("   lag %s: p50=%.2f p99=%.2f max=%.2f ms (%d samples, %d unseen)%n", mode, sum[0], sum[1], sum[2], (long) sum[3], (long) sum[4]);
      }
    }
  }

  /** Bytes on the wire per write, from the nodes' own replication counters. */
  private void wire() throws Exception {
    JsonObject res = new JsonObject();
    out.add("wire", res);
    for (int n : new int[] {3, 5}) {
      try (Cluster c = cluster(n, 18600 + n * 10, ":memory:", null)) {
        preload(c.addrs(), 1000, VALUE, "w");
        Thread.sleep(1000);
        long[] before = counters(c);
        double rate = 1000;
        Result r = load(n + " nodes wire " + (int) rate + "/s", c.addrs(), "write", CONNS, rate, 1000, VALUE, false, "w", null);
        Thread.sleep(1500); // let replication finish
        long[] after = counters(c);
        long puts = after[0] - before[0];
        long bytesRecv = after[1] - before[1];
        long versRecv = after[2] - before[2];
        long bytesSent = after[3] - before[3];
        long pulls = after[4] - before[4];
        JsonObject w = new JsonObject();
        w.addProperty("writes", puts);
        w.addProperty("valueBytes", VALUE);
        w.addProperty("pullBytesReceived", bytesRecv);
        w.addProperty("pullBytesSent", bytesSent);
        w.addProperty("versionsReceived", versRecv);
        w.addProperty("pulls", pulls);
        if (puts > 0) {
          w.addProperty("bytesPerWrite", Result.round((double) Math.max(bytesRecv, bytesSent) / puts));
          w.addProperty("bytesPerWritePerReplica", Result.round((double) Math.max(bytesRecv, bytesSent) / puts / (n - 1)));
          w.addProperty("versionsPerWritePerReplica", Result.round((double) versRecv / puts / (n - 1)));
        }
        if (versRecv > 0) w.addProperty("bytesPerVersionDelivered", Result.round((double) Math.max(bytesRecv, bytesSent) / versRecv));
        res.add(Integer.toString(n), w);
        System.err.println("   wire " + n + ": " + w);
      }
    }
  }

  /** [op.put, pull.bytes_received, pull.versions_received, pull.bytes_sent, pull.completed] summed over nodes. */
  private static long[] counters(Cluster c) {
    long[] s = new long[5];
    for (Cluster.Node n : c.nodes) {
      JsonObject st = Cluster.stats(n);
      JsonObject k = st.has("counters") ? st.getAsJsonObject("counters") : new JsonObject();
      s[0] += get(k, "op.put");
      s[1] += get(k, "pull.bytes_received");
      s[2] += get(k, "pull.versions_received");
      s[3] += get(k, "pull.bytes_sent");
      s[4] += get(k, "pull.completed");
    }
    return s;
  }

  private static long get(JsonObject o, String k) {
    return o.has(k) ? o.get(k).getAsLong() : 0;
  }

  /** Heap (after full GC), RSS and disk per key, one node. */
  private void memory() throws Exception {
    JsonObject res = new JsonObject();
    out.add("memory", res);
    int keys = quick ? 50_000 : 200_000;
    for (String mode : new String[] {":memory:", "disk"}) {
      try (Cluster c = cluster(1, 18700 + (mode.equals("disk") ? 10 : 0), mode, null)) {
        Cluster.Node nd = c.nodes.get(0);
        Thread.sleep(1000);
        long h0 = Procs.heapUsedAfterGc(nd.pid());
        long r0 = Procs.rssKiB(nd.pid());
        long d0 = mode.equals("disk") ? Procs.duBytes(nd.dataDir) : 0;
        preload(c.addrs(), keys, VALUE, "m");
        long h1 = Procs.heapUsedAfterGc(nd.pid());
        long r1 = Procs.rssKiB(nd.pid());
        JsonObject m = new JsonObject();
        m.addProperty("keys", keys);
        m.addProperty("valueBytes", VALUE);
        m.addProperty("keyBytes", 6);
        m.addProperty("heapBytesPerKey", Result.round((double) (h1 - h0) / keys));
        m.addProperty("rssBytesPerKey", Result.round((double) (r1 - r0) * 1024 / keys));
        if (mode.equals("disk")) {
          long d1 = Procs.duBytes(nd.dataDir);
          m.addProperty("diskBytesPerKey", Result.round((double) (d1 - d0) / keys));
        }
        res.add(mode.equals("disk") ? "disk" : "memory", m);
        System.err.println("   memory " + mode + ": " + m);
      }
    }
  }

  /** Throughput of normal clients while 1,000 clients wait on reads the node cannot cover yet. */
  private void blocked() throws Exception {
    JsonObject res = new JsonObject();
    out.add("blocked", res);
    int blockedClients = 1000;
    // A payload B cannot cover, obtained legitimately: B is started late, after a write on A,
    // and A is SIGSTOPped before B starts, so B can never pull that write. (Stopping B while
    // writing on A is not enough: B's long-poll is already parked at A and the answer waits
    // in B's socket buffer.)
    Cluster c = new Cluster(nodeJar, work, false, ":memory:", null, null);
    try {
      c.define(2, 18800);
      Cluster.Node a = c.nodes.get(0);
      Cluster.Node b = c.nodes.get(1);
      String view = c.view(c.nodes);
      c.start(a, view);
      Cluster.awaitUp(a, 60_000);
      String poison;
      try (Http h = new Http(a.id)) {
        poison = h.put("/keyValue-store/poison", "val=1").payload();
      }
      Procs.signal(a.proc, "STOP");
      c.start(b, view);
      Cluster.awaitUp(b, 60_000);
      List<InetSocketAddress> tb = List.of(b.addr());
      preload(tb, KEYS, VALUE, "k");
      jitWarmUp("B", tb);
      Result base = run("B alone read95", tb, "read95", CONNS, VALUE, false);
      res.add("baseline", base.toJson());
      res.addProperty("payload", poison);
      // confirm it blocks
      long t0 = System.nanoTime();
      int st;
      try (Http h = new Http(b.id)) {
        st = h.get("/keyValue-store/k1?payload=" + Http1.urlEncode(poison)).status;
      }
      res.addProperty("probeStatus", st);
      res.addProperty("probeWaitMs", Result.round((System.nanoTime() - t0) / 1e6));
      final Result[] blockedRes = new Result[1];
      Thread bt = new Thread(() -> {
        try {
          LoadEngine.Config cfg = new LoadEngine.Config();
          cfg.label = "1000 blocked";
          cfg.targets = tb;
          cfg.connections = blockedClients;
          cfg.threads = 1;
          cfg.workload = new Workload("read", false, KEYS, VALUE, "k");
          cfg.fixedPayload = poison;
          cfg.warmupMs = warmupMs;
          cfg.durationMs = measureMs + 1000;
          cfg.progress = false;
          blockedRes[0] = new LoadEngine(cfg).run();
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      bt.start();
      Thread.sleep(1500);
      JsonObject st0 = Cluster.stats(b);
      Result with = run("B read95 + 1000 blocked", tb, "read95", CONNS, VALUE, false);
      JsonObject st1 = Cluster.stats(b);
      bt.join();
      res.add("withBlocked", with.toJson());
      if (blockedRes[0] != null) res.add("blockedClients", blockedRes[0].toJson());
      res.addProperty("parkedDuring", Math.max(st0.has("parked") ? st0.get("parked").getAsLong() : -1,
          st1.has("parked") ? st1.get("parked").getAsLong() : -1));
      res.addProperty("ratio", Result.round(with.throughput() / Math.max(1, base.throughput())));
    } finally {
      for (Cluster.Node n : c.nodes) Procs.signal(n.proc, "CONT");
      c.close();
    }
  }

  /** Convergence after healing a partition vs divergent keys, and lag across partition/heal. */
  private void partition() throws Exception {
    JsonObject res = new JsonObject();
    out.add("partition", res);
    boolean ns = Cluster.netnsAvailable();
    res.addProperty("method", ns
        ? "network namespaces on a bridge; node C isolated from A and B with iptables DROP (both directions); clients reach all nodes"
        : "no namespaces (not root or no iptables): node C SIGSTOPped while A is written, then SIGCONTed");
    int[] sizes = quick ? new int[] {1_000, 10_000} : new int[] {1_000, 10_000, 100_000};
    JsonArray rows = new JsonArray();
    res.add("rows", rows);
    if (ns) Cluster.teardownNetns(5);
    Cluster c = new Cluster(nodeJar, work, ns, ":memory:", null, null);
    try {
      c.define(3, 18900);
      c.startAll();
      Cluster.Node a = c.nodes.get(0);
      Cluster.Node cc = c.nodes.get(2);
      for (int d : sizes) {
        boolean timeline = d == 10_000;
        LagProbe probe = null;
        if (timeline) {
          probe = new LagProbe(a.id, List.of(cc.id), "partprobe", 50, 50 * 600);
          probe.start();
          Thread.sleep(2000);
        }
        double cutMs = probe == null ? 0 : (System.nanoTime() - probe.t0Nanos) / 1e6;
        if (ns) c.isolate(cc); else Procs.signal(cc.proc, "STOP");
        String prefix = "p" + d + "_";
        long tw = System.nanoTime();
        // the same keys written on both sides: every key diverges
        Thread wa = new Thread(() -> { try { load("side A", List.of(a.addr()), "load", 16, 0, d, VALUE, false, prefix, null); } catch (Exception e) { throw new RuntimeException(e); } });
        wa.start();
        if (ns) load("side C", List.of(cc.addr()), "load", 16, 0, d, VALUE, false, prefix, null);
        wa.join();
        double writeSecs = (System.nanoTime() - tw) / 1e9;
        if (timeline) Thread.sleep(1000);
        String apA = Cluster.stats(a).get("applied") + "", apC = Cluster.stats(cc).get("applied") + "";
        boolean diverged = !apA.equals(apC);
        long heal = System.nanoTime();
        double healMs = probe == null ? 0 : (heal - probe.t0Nanos) / 1e6;
        if (ns) c.heal(cc); else Procs.signal(cc.proc, "CONT");
        long conv = awaitConverged(c, 120_000);
        double convMs = conv < 0 ? -1 : (conv - heal) / 1e6;
        JsonObject row = new JsonObject();
        row.addProperty("divergentKeys", d);
        row.addProperty("writeSeconds", Result.round(writeSecs));
        row.addProperty("convergenceMs", Result.round(convMs));
        row.addProperty("divergedBeforeHeal", diverged);
        rows.add(row);
        System.err.printf("   partition %d keys: converged %.0f ms after heal%n", d, convMs);
        if (timeline) {
          Thread.sleep(3000);
          probe.stopAndJoin();
          JsonArray pts = new JsonArray();
          for (LagProbe.Sample s : probe.samples()) {
            JsonArray pt = new JsonArray();
            pt.add(Result.round(s.ackMs() / 1000.0));
            pt.add(Result.round(s.lagMs()));
            pts.add(pt);
          }
          JsonObject tl = new JsonObject();
          tl.addProperty("cutS", Result.round(cutMs / 1000));
          tl.addProperty("healS", Result.round(healMs / 1000));
          tl.addProperty("convergedS", Result.round((healMs + convMs) / 1000));
          tl.add("points", pts);
          res.add("timeline", tl);
        }
      }
    } finally {
      c.close();
      if (ns) Cluster.teardownNetns(5);
    }
  }

  /** Waits until every node reports the same applied vector and key count; returns nanoTime or -1. */
  private static long awaitConverged(Cluster c, long timeoutMs) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (System.currentTimeMillis() < deadline) {
      String applied = null;
      String keys = null;
      boolean same = true;
      for (Cluster.Node n : c.nodes) {
        JsonObject s = Cluster.stats(n);
        if (!s.has("applied")) { same = false; break; }
        String ap = s.get("applied").toString();
        String k = String.valueOf(s.get("keys"));
        if (applied == null) { applied = ap; keys = k; }
        else if (!applied.equals(ap) || !keys.equals(k)) { same = false; break; }
      }
      if (same) return System.nanoTime();
      Thread.sleep(10);
    }
    return -1;
  }

  /** Time for a new node to serve covered reads after PUT /view, vs data size. */
  private void join() throws Exception {
    JsonObject res = new JsonObject();
    out.add("join", res);
    int[] sizes = quick ? new int[] {10_000, 100_000} : new int[] {10_000, 100_000, 1_000_000};
    JsonArray rows = new JsonArray();
    res.add("rows", rows);
    try (Cluster c = cluster(3, 19000, ":memory:", null)) {
      Cluster.Node a = c.nodes.get(0);
      long loaded = 0;
      int round = 0;
      for (int size : sizes) {
        long t0 = System.nanoTime();
        // load keys [loaded, size) -- written as one sequence over all three nodes
        load("join preload", c.addrs(), "load", CONNS, 0, size, VALUE, false, "j", null);
        loaded = size;
        double loadSecs = (System.nanoTime() - t0) / 1e9;
        String payload;
        try (Http h = new Http(a.id)) {
          payload = h.put("/keyValue-store/joinmarker", "val=" + size).payload();
        }
        awaitConverged(c, 120_000);
        round++;
        Cluster.Node d = c.defineOne(3 + round, 19000);
        List<Cluster.Node> members = new ArrayList<>(c.nodes.subList(0, 3));
        members.add(d);
        long ts = System.nanoTime();
        c.start(d, c.view(members));
        Cluster.awaitUp(d, 60_000);
        double startS = (System.nanoTime() - ts) / 1e9;
        long tj = System.nanoTime();
        int vst;
        try (Http h = new Http(a.id)) {
          vst = h.put("/view", "ip_port=" + Http1.urlEncode(d.id)).status;
        }
        double viewMs = (System.nanoTime() - tj) / 1e6;
        double serveMs = -1;
        String q = "/keyValue-store/joinmarker?payload=" + Http1.urlEncode(payload);
        try (Http h = new Http(d.id, 5_000)) {
          long deadline = System.currentTimeMillis() + 150_000;
          while (System.currentTimeMillis() < deadline) {
            try {
              if (h.get(q).status == 200) { serveMs = (System.nanoTime() - tj) / 1e6; break; }
            } catch (Exception ignored) { }
            Thread.sleep(20);
          }
        }
        JsonObject sa = Cluster.stats(a);
        long want = sa.has("keys") ? sa.get("keys").getAsLong() : -1;
        double fullMs = -1;
        long deadline = System.currentTimeMillis() + 150_000;
        while (System.currentTimeMillis() < deadline) {
          JsonObject sd = Cluster.stats(d);
          if (sd.has("keys") && sd.get("keys").getAsLong() >= want) { fullMs = (System.nanoTime() - tj) / 1e6; break; }
          Thread.sleep(50);
        }
        JsonObject row = new JsonObject();
        row.addProperty("keys", size);
        row.addProperty("loadSeconds", Result.round(loadSecs));
        row.addProperty("jvmStartSeconds", Result.round(startS));
        row.addProperty("putViewStatus", vst);
        row.addProperty("putViewMs", Result.round(viewMs));
        row.addProperty("servesReadsMs", Result.round(serveMs));
        row.addProperty("allKeysMs", Result.round(fullMs));
        row.addProperty("rssMiB", Procs.rssKiB(d.pid()) / 1024);
        rows.add(row);
        System.err.println("   join " + row);
        // take it out again so the next round joins a fresh node
        try (Http h = new Http(a.id)) {
          h.delete("/view", "ip_port=" + Http1.urlEncode(d.id));
        }
        Procs.stop(d.proc);
        c.nodes.remove(d);
      }
    }
  }

  /** JMH micro-benchmarks, if the JMH jar was built (it needs the node's core classes). */
  private void jmh() throws Exception {
    JsonObject res = new JsonObject();
    out.add("jmh", res);
    Path jar = repo.resolve("bench/jmh/target/causalkv-jmh.jar");
    if (!Files.exists(jar)) {
      res.addProperty("skipped", "bench/jmh/target/causalkv-jmh.jar not built");
      return;
    }
    Path json = work.resolve("jmh.json");
    Files.deleteIfExists(json);
    List<String> cmd = new ArrayList<>(List.of("java", "-jar", jar.toString(), "-f", "1", "-wi", "1", "-w", "1s",
        "-i", quick ? "2" : "3", "-r", "1s", "-t", "1", "-rf", "json", "-rff", json.toString()));
    Process p = Procs.start(cmd, Map.of(), work.resolve("jmh.log"));
    if (!p.waitFor(15, java.util.concurrent.TimeUnit.MINUTES)) { Procs.stop(p); throw new IllegalStateException("jmh timed out"); }
    if (!Files.exists(json)) throw new IllegalStateException("jmh wrote no results, see bench/work/jmh.log");
    JsonArray arr = JsonParser.parseString(Files.readString(json)).getAsJsonArray();
    JsonArray rows = new JsonArray();
    for (JsonElement e : arr) {
      JsonObject o = e.getAsJsonObject();
      JsonObject r = new JsonObject();
      r.addProperty("benchmark", o.get("benchmark").getAsString().replace("dev.causalkv.bench.jmh.", ""));
      if (o.has("params")) r.add("params", o.get("params"));
      JsonObject pm = o.getAsJsonObject("primaryMetric");
      r.addProperty("score", pm.get("score").getAsDouble());
      r.addProperty("error", pm.get("scoreError").isJsonPrimitive() ? pm.get("scoreError").getAsString() : "");
      r.addProperty("unit", pm.get("scoreUnit").getAsString());
      rows.add(r);
    }
    res.add("rows", rows);
  }
}
