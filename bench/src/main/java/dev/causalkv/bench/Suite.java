package dev.causalkv.bench;

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
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The whole benchmark run, each phase writing into one JSON document that {@link Report} turns
 * into BENCHMARKS.md and charts. Every ratio comes from an {@link Interleave}: the systems
 * compared are up together and take turns, repetition after repetition. Every phase is bounded
 * in time; a phase that fails is recorded as failed and the run goes on.
 */
final class Suite {
  private final Path repo;
  private final Path work;
  private final Path gcDir;
  private final Path profileDir;
  private final Path nodeJar;
  private final Path benchJar;
  private final boolean quick;
  private final int reps;
  private final long warmMs;
  private final long measureMs;
  private final JsonObject out = new JsonObject();
  private final JsonArray noise = new JsonArray();
  private final JsonObject errors = new JsonObject();
  private final List<String> only;
  private final Profiler profiler;
  private static final int KEYS = 10_000;
  private static final int VALUE = 100;
  private static final int CONNS = 32;

  /** The node jar of a build to compare against (phase "ab": a lever's before/after), or null. */
  private Path abJar;

  Suite(Path repo, boolean quick, List<String> only, boolean profile) {
    this.repo = repo;
    this.work = repo.resolve("bench/work");
    this.gcDir = work.resolve("gc");
    this.profileDir = repo.resolve("bench/profiles");
    this.nodeJar = repo.resolve("target/causalkv.jar");
    this.benchJar = repo.resolve("bench/target/causalkv-bench.jar");
    this.quick = quick;
    this.reps = 5;
    this.warmMs = quick ? 700 : 1000;
    this.measureMs = quick ? 2000 : 3000;
    this.only = only;
    this.profiler = profile ? Profiler.create(work) : null;
  }

  static void main(String[] args) throws Exception {
    boolean quick = false;
    boolean profile = true;
    Path repo = Path.of("").toAbsolutePath();
    List<String> only = new ArrayList<>();
    boolean reportOnly = false;
    Path abJar = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--quick": quick = true; break;
        case "--no-profile": profile = false; break;
        case "--repo": repo = Path.of(args[++i]).toAbsolutePath(); break;
        case "--only": only.addAll(List.of(args[++i].split(","))); break;
        case "--report-only": reportOnly = true; break;
        case "--ab-jar": abJar = Path.of(args[++i]).toAbsolutePath(); break;
        default: throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    Files.createDirectories(repo.resolve("bench/work"));
    Suite s = new Suite(repo, quick, only, profile);
    s.abJar = abJar;
    if (!reportOnly) s.runAll();
    Report.write(repo, JsonParser.parseString(Files.readString(repo.resolve("bench/work/results.json"))).getAsJsonObject());
  }

  interface Phase { void run() throws Exception; }

  /** Every phase, in run order. */
  private Map<String, Phase> phases() {
    Map<String, Phase> m = new java.util.LinkedHashMap<>();
    m.put("single", this::single);
    m.put("durable", this::durable);
    m.put("cluster3", this::cluster3);
    m.put("scale", this::scale);
    m.put("curve", this::curve);
    m.put("blocked", this::blocked);
    m.put("partition", this::partition);
    m.put("join", this::join);
    m.put("ab", this::ab);
    m.put("redis", this::redis);
    m.put("jmh", this::jmh);
    return m;
  }

  private void phase(String name, Phase p) {
    if (!only.isEmpty() && !only.contains(name)) return;
    if (name.equals("ab") && abJar == null && !only.contains("ab")) return;
    JsonObject n = new JsonObject();
    n.addProperty("phase", name);
    n.addProperty("loadavg", loadavg());
    n.addProperty("quick", quick);
    noise.add(n);
    long t0 = System.currentTimeMillis();
    System.err.println("== " + name + "  (load average " + loadavg() + ")");
    errors.remove(name);
    try {
      p.run();
    } catch (Throwable t) {
      t.printStackTrace();
      errors.addProperty(name, t.toString());
    } finally {
      Procs.stopAll();
      n.addProperty("seconds", (System.currentTimeMillis() - t0) / 1000.0);
      n.addProperty("loadavgEnd", loadavg());
      save();
    }
  }

  void runAll() throws Exception {
    Files.createDirectories(work);
    Files.createDirectories(gcDir);
    if (!Files.exists(nodeJar)) throw new IllegalStateException("build the node first: " + nodeJar);
    Path prev = work.resolve("results.json");
    if (!only.isEmpty() && Files.exists(prev)) {
      JsonObject p = JsonParser.parseString(Files.readString(prev)).getAsJsonObject();
      if (p.has("format") && p.get("format").getAsInt() == 2 && p.get("quick").getAsBoolean() == quick) {
        rerun(p);
        return;
      }
    }
    long start = System.currentTimeMillis();
    out.addProperty("format", 2);
    out.addProperty("started", Instant.now().toString());
    out.addProperty("quick", quick);
    out.addProperty("reps", reps);
    out.addProperty("warmupMs", warmMs);
    out.addProperty("measureMs", measureMs);
    out.addProperty("profiled", profiler != null);
    out.add("machine", machine());
    out.add("noise", noise);
    out.add("errors", errors);
    for (Map.Entry<String, Phase> e : phases().entrySet()) phase(e.getKey(), e.getValue());
    out.addProperty("totalSeconds", (System.currentTimeMillis() - start) / 1000.0);
    out.addProperty("loadavgEnd", loadavg());
    save();
  }

  /** Re-runs only the phases named by --only inside an existing results.json (format 2); the rest is kept. */
  private void rerun(JsonObject prev) throws Exception {
    for (String k : prev.keySet()) out.add(k, prev.get(k));
    JsonArray kept = new JsonArray();
    for (JsonElement e : prev.getAsJsonArray("noise")) {
      if (!only.contains(e.getAsJsonObject().get("phase").getAsString())) kept.add(e);
    }
    noise.addAll(kept);
    out.add("noise", noise);
    if (prev.has("errors")) for (Map.Entry<String, JsonElement> e : prev.getAsJsonObject("errors").entrySet()) errors.add(e.getKey(), e.getValue());
    out.add("errors", errors);
    out.add("machine", machine());
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
      String prefix, String fixedPayload, long warm, long measure) throws Exception {
    LoadEngine.Config c = new LoadEngine.Config();
    c.label = label;
    c.targets = targets;
    c.connections = conns;
    c.ratePerSec = rate;
    c.workload = new Workload(mix, false, keys, value, prefix);
    c.fixedPayload = fixedPayload;
    if (mix.equals("load")) { c.maxOps = keys; c.warmupMs = 0; c.durationMs = 900_000; c.progress = false; }
    else { c.warmupMs = warm; c.durationMs = measure; c.progress = false; }
    return new LoadEngine(c).run();
  }

  /**
   * Unrecorded load until the system's throughput stops rising: windows of the balanced mix until
   * the best of the last three is within 5% of the best before them (at least 6 windows, at most
   * 40). Three JVMs sharing 2 cores are still compiling a minute in (a 3-node write load ran
   * 2.7k ops/s in its first 10 s and 15k from the 80th on), and two 2-second windows agreeing
   * within 10% (the rule before this one) happened well inside that ramp. The windows are kept in
   * {@code res.warmup} so the report shows how long each system took.
   */
  private void jitWarmUp(JsonObject res, Interleave.Sys s) throws Exception {
    long windowMs = quick ? 2000 : 3000;
    List<Double> rates = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      double rate;
      if (s.hz != null) {
        rate = HazelcastBaseline.run(s.hz, "hazelcast JIT warm-up", new Workload("mix50", false, KEYS, VALUE, "k"), 16, 0, windowMs).throughput();
      } else {
        rate = load(s.name + " JIT warm-up", s.targets, "mix50", CONNS, 0, KEYS, VALUE, "k", null, 0, windowMs).throughput();
      }
      rates.add(rate);
      int n = rates.size();
      if (n >= 6) {
        double before = java.util.Collections.max(rates.subList(0, n - 3));
        double last = java.util.Collections.max(rates.subList(n - 3, n));
        if (last <= 1.05 * before) break;
      }
    }
    if (!res.has("warmup")) res.add("warmup", new JsonObject());
    JsonObject w = new JsonObject();
    w.addProperty("windowMs", windowMs);
    JsonArray a = new JsonArray();
    for (double r : rates) a.add(Math.round(r));
    w.add("rates", a);
    res.getAsJsonObject("warmup").add(s.name, w);
  }

  private void preload(List<InetSocketAddress> t, long keys, int value, String prefix) throws Exception {
    long t0 = System.nanoTime();
    Result r = load("preload", t, "load", CONNS, 0, keys, value, prefix, null, 0, 0);
    if (r.checks.violations() > 0) throw new IllegalStateException("causal check violations while preloading: " + r.checks.violations());
    System.err.printf("   preloaded %,d keys in %.1fs%n", keys, (System.nanoTime() - t0) / 1e9);
  }

  private Process startBare(int port, String tag) throws Exception {
    Process p = Procs.start(List.of("java", GcLog.option(gcDir.resolve(tag + ".log")), "-cp", benchJar.toString(),
        "dev.causalkv.bench.BenchMain", "bare-server", Integer.toString(port)), Map.of(), work.resolve("bare.log"));
    long deadline = System.currentTimeMillis() + 30_000;
    while (!Http.up("127.0.0.1:" + port)) {
      if (System.currentTimeMillis() > deadline || !p.isAlive()) throw new IllegalStateException("bare server did not start");
      Thread.sleep(100);
    }
    return p;
  }

  private Cluster cluster(int n, int basePort, String dataMode, Map<String, String> env, String tag) throws Exception {
    Cluster c = new Cluster(nodeJar, work, false, dataMode, env, null);
    c.gcDir = gcDir;
    c.gcTag = tag;
    c.define(n, basePort);
    c.startAll();
    return c;
  }

  private Interleave.Sys sys(String name, Cluster c) {
    List<Path> logs = new ArrayList<>();
    for (Cluster.Node n : c.nodes) logs.add(c.gcLog(n));
    Interleave.Sys s = new Interleave.Sys(name, c.pids(), c.addrs(), null, logs);
    List<String> ids = new ArrayList<>();
    for (Cluster.Node n : c.nodes) ids.add(n.id);
    s.nodeIds = ids;
    return s;
  }

  private Interleave interleave(String phase, List<Interleave.Sys> systems, String... profiledLoads) {
    return new Interleave(phase, systems, reps, warmMs, measureMs, profiler, profileDir, work, Set.of(profiledLoads));
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
    String dirty = Procs.run("git", "-C", repo.toString(), "status", "--porcelain", "--untracked-files=no", "src");
    m.addProperty("nodeSourceDirty", !dirty.isBlank());
    return m;
  }

  // ---------------------------------------------------------------- phases

  /** One node (memory engine) and the bare Undertow baseline, interleaved. */
  private void single() throws Exception {
    JsonObject res = new JsonObject();
    out.add("single", res);
    Process bare = startBare(18080, "single-bare");
    try (Cluster c = cluster(1, 18100, ":memory:", null, "single-node")) {
      Interleave.Sys b = new Interleave.Sys("bare", List.of(bare.pid()), one("127.0.0.1:18080"), null,
          List.of(gcDir.resolve("single-bare.log")));
      Interleave.Sys n = sys("node", c);
      for (Interleave.Sys s : List.of(b, n)) { preload(s.targets, KEYS, VALUE, "k"); jitWarmUp(res, s); }
      res.add("loads", interleave("single", List.of(b, n), "read", "write").run(List.of(
          new Interleave.Load("read", "read", CONNS), new Interleave.Load("write", "write", CONNS),
          new Interleave.Load("mix50", "mix50", CONNS))));
    } finally {
      Procs.stop(bare);
    }
  }

  /** One node per engine: memory, and RocksDB with each SYNC mode, interleaved on PUT. */
  private void durable() throws Exception {
    JsonObject res = new JsonObject();
    out.add("durable", res);
    List<Cluster> cs = new ArrayList<>();
    try {
      List<Interleave.Sys> systems = new ArrayList<>();
      String[][] kinds = {{"memory", ":memory:", "batch"}, {"batch", "disk", "batch"}, {"always", "disk", "always"}, {"never", "disk", "never"}};
      int port = 18110;
      for (String[] k : kinds) {
        Cluster c = cluster(1, port, k[1], Map.of("SYNC", k[2]), "durable-" + k[0]);
        port += 10;
        cs.add(c);
        Interleave.Sys s = sys(k[0], c);
        preload(s.targets, KEYS, VALUE, "k");
        jitWarmUp(res, s);
        systems.add(s);
      }
      res.add("loads", interleave("durable", systems, "write").run(List.of(new Interleave.Load("write", "write", CONNS))));
    } finally {
      for (Cluster c : cs) c.close();
    }
  }

  /** Three nodes, three nodes with CAUSAL=off, and a 3-member Hazelcast ReplicatedMap, interleaved. */
  private void cluster3() throws Exception {
    JsonObject res = new JsonObject();
    out.add("cluster3", res);
    List<Process> members = new ArrayList<>();
    HazelcastInstance hz = null;
    try (Cluster ours = cluster(3, 18300, ":memory:", null, "c3-ours");
         Cluster off = cluster(3, 18310, ":memory:", Map.of("CAUSAL", "off"), "c3-off")) {
      List<Path> hzLogs = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        Path log = gcDir.resolve("c3-hz-" + i + ".log");
        Files.deleteIfExists(log);
        hzLogs.add(log);
        members.add(Procs.start(List.of("java", GcLog.option(log), "-cp", benchJar.toString(), "dev.causalkv.bench.BenchMain",
            "hz-member", Integer.toString(i), "3"), Map.of(), work.resolve("hz-" + i + ".log")));
      }
      hz = HazelcastBaseline.client(3);
      long deadline = System.currentTimeMillis() + 60_000;
      while (hz.getCluster().getMembers().size() < 3 && System.currentTimeMillis() < deadline) Thread.sleep(200);
      res.addProperty("hzMembers", hz.getCluster().getMembers().size());
      HazelcastBaseline.preload(hz, new Workload("load", false, KEYS, VALUE, "k"));
      List<Long> hzPids = new ArrayList<>();
      for (Process p : members) hzPids.add(p.pid());
      Interleave.Sys h = new Interleave.Sys("hazelcast", hzPids, List.of(), hz, hzLogs);
      Interleave.Sys o = sys("causal", ours);
      Interleave.Sys f = sys("causal-off", off);
      for (Interleave.Sys s : List.of(o, f)) preload(s.targets, KEYS, VALUE, "k");
      for (Interleave.Sys s : List.of(o, f, h)) jitWarmUp(res, s);
      res.add("loads", interleave("cluster3", List.of(o, f, h), "write16", "read16", "mix50").run(List.of(
          new Interleave.Load("write16", "write", 16), new Interleave.Load("read16", "read", 16),
          new Interleave.Load("write64", "write", 64), new Interleave.Load("mix50", "mix50", CONNS),
          new Interleave.Load("read95", "read95", CONNS).only("causal", "causal-off"))));
    } finally {
      if (hz != null) hz.shutdown();
      for (Process p : members) Procs.stop(p);
    }
  }

  /** 1, 3, 5 (and 7) nodes, all up together, interleaved: PUT-only and the GET-only control. */
  private void scale() throws Exception {
    JsonObject res = new JsonObject();
    out.add("scale", res);
    int[] sizes = quick ? new int[] {1, 3, 5} : new int[] {1, 3, 5, 7};
    JsonArray ns = new JsonArray();
    for (int n : sizes) ns.add(n);
    res.add("sizes", ns);
    List<Cluster> cs = new ArrayList<>();
    try {
      List<Interleave.Sys> systems = new ArrayList<>();
      for (int n : sizes) {
        Cluster c = cluster(n, 18200 + n * 10, ":memory:", null, "scale-" + n);
        cs.add(c);
        Interleave.Sys s = sys("n" + n, c);
        preload(s.targets, KEYS, VALUE, "k");
        jitWarmUp(res, s);
        systems.add(s);
      }
      Thread.sleep(1000); // let the preload replicate before anything is measured
      res.add("loads", interleave("scale", systems, "write").run(List.of(
          new Interleave.Load("write", "write", CONNS), new Interleave.Load("read", "read", CONNS))));
    } finally {
      for (Cluster c : cs) c.close();
    }
  }

  /**
   * Latency and replication lag against offered load, 3 nodes, balanced 50/50, open loop: the
   * closed-loop maximum first (median of three), then offered fractions of it; the 50% point is
   * repeated five times between the others. A point counts as run at its load only when what was
   * achieved matches what was offered.
   */
  private void curve() throws Exception {
    JsonObject res = new JsonObject();
    out.add("curve", res);
    try (Cluster c = cluster(3, 18500, ":memory:", null, "curve")) {
      List<InetSocketAddress> t = c.addrs();
      Interleave.Sys s = sys("causal", c);
      preload(t, KEYS, VALUE, "k");
      jitWarmUp(res, s);
      List<Double> maxes = new ArrayList<>();
      for (int i = 0; i < 3; i++) maxes.add(load("max", t, "mix50", CONNS, 0, KEYS, VALUE, "k", null, warmMs, measureMs).throughput());
      double max = Interleave.mmm(maxes).get(0).getAsDouble();
      res.addProperty("closedLoopMax", Result.round(max));
      res.add("closedLoopMaxRuns", Interleave.mmm(maxes));
      // idle lag
      res.add("idle", lagPoint(c, s, 0, 0));
      double[] order = {0.5, 0.1, 0.5, 0.25, 0.5, 0.75, 0.5, 0.9, 0.5, 1.0};
      JsonArray points = new JsonArray();
      for (double f : order) {
        JsonObject p = lagPoint(c, s, f, Math.max(100, Math.floor(max * f / 100) * 100));
        points.add(p);
      }
      res.add("points", points);
    }
  }

  /** One open-loop point with the lag probe running beside it; rate 0: the probe alone. */
  private JsonObject lagPoint(Cluster c, Interleave.Sys s, double fraction, double rate) throws Exception {
    int secs = (int) Math.ceil((warmMs + measureMs) / 1000.0) + 1;
    LagProbe p = new LagProbe(c.nodes.get(0).id, List.of(c.nodes.get(1).id, c.nodes.get(2).id), "lagprobe", 100, 100 * (secs + 10));
    p.start();
    Meter.Snap[] snaps = new Meter.Snap[2];
    Result r;
    double probeFrom = warmMs;
    double probeTo;
    if (rate > 0) {
      LoadEngine.Config cfg = new LoadEngine.Config();
      cfg.label = "curve " + (int) (fraction * 100) + "%";
      cfg.targets = s.targets;
      cfg.connections = CONNS;
      cfg.ratePerSec = rate;
      cfg.workload = new Workload("mix50", false, KEYS, VALUE, "k");
      cfg.warmupMs = warmMs;
      cfg.durationMs = measureMs;
      cfg.progress = false;
      cfg.onMeasureStart = () -> snaps[0] = Meter.take(s.pids);
      cfg.onMeasureEnd = () -> snaps[1] = Meter.take(s.pids);
      r = new LoadEngine(cfg).run();
      probeTo = warmMs + measureMs;
    } else {
      Thread.sleep(warmMs);
      snaps[0] = Meter.take(s.pids);
      Thread.sleep(measureMs);
      snaps[1] = Meter.take(s.pids);
      r = new Result("idle");
      r.seconds = measureMs / 1000.0;
      probeTo = warmMs + measureMs;
    }
    Thread.sleep(300);
    p.stopAndJoin();
    double[] lag = LagProbe.summary(p.samples(), probeFrom, probeTo);
    JsonObject o = Interleave.measured(s, r, Meter.between(snaps[0], snaps[1]));
    o.addProperty("fraction", fraction);
    o.addProperty("offered", rate);
    o.addProperty("achievedOverOffered", rate > 0 ? Result.round(r.throughput() / rate) : 0);
    o.addProperty("verified", rate > 0 && r.throughput() >= 0.97 * rate);
    JsonObject l = new JsonObject();
    l.addProperty("p50ms", Result.round(lag[0]));
    l.addProperty("p99ms", Result.round(lag[1]));
    l.addProperty("maxms", Result.round(lag[2]));
    l.addProperty("samples", (long) lag[3]);
    l.addProperty("unseen", (long) lag[4]);
    o.add("lag", l);
    System.err.printf("   curve %3.0f%%: offered %.0f achieved %.0f  GET p99 %.2f ms  lag p50 %.2f p99 %.2f ms  %s%n", fraction * 100, rate,
        r.throughput(), r.pct(Workload.Op.GET, 99), lag[0], lag[1], o.get("flagged").getAsBoolean() ? "[flagged]" : "");
    return o;
  }

  /**
   * Throughput of normal clients beside 0, 1,000 and 10,000 readers parked on a payload the node
   * cannot cover: three nodes B0, B1k, B10k, each with only the stopped node A as peer, interleaved.
   */
  private void blocked() throws Exception {
    JsonObject res = new JsonObject();
    out.add("blocked", res);
    int[] parked = quick ? new int[] {0, 1000, 5000} : new int[] {0, 1000, 10_000};
    Cluster c = new Cluster(nodeJar, work, false, ":memory:", Map.of("CAUSAL_WAIT_MS", "600000", "MAX_WAITING_READS", "50000"), null);
    c.gcDir = gcDir;
    c.gcTag = "blocked";
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> parkers = new ArrayList<>();
    try {
      c.define(1 + parked.length, 18800);
      Cluster.Node a = c.nodes.get(0);
      c.start(a, c.view(c.nodes));
      Cluster.awaitUp(a, 60_000);
      String poison;
      try (Http h = new Http(a.id)) {
        poison = h.put("/keyValue-store/poison", "val=1").payload();
      }
      // A is stopped before the others start: they can never pull that write, so the payload blocks for good
      Procs.signal(a.proc, "STOP");
      List<Interleave.Sys> systems = new ArrayList<>();
      for (int i = 0; i < parked.length; i++) {
        Cluster.Node b = c.nodes.get(1 + i);
        c.start(b, a.id + "," + b.id);
      }
      for (int i = 0; i < parked.length; i++) {
        Cluster.Node b = c.nodes.get(1 + i);
        Cluster.awaitUp(b, 60_000);
        Interleave.Sys s = new Interleave.Sys("parked" + parked[i], List.of(b.pid()), List.of(b.addr()), null, List.of(c.gcLog(b)));
        preload(s.targets, KEYS, VALUE, "k");
        jitWarmUp(res, s);
        systems.add(s);
        if (parked[i] == 0) continue;
        LoadEngine.Config cfg = new LoadEngine.Config();
        cfg.label = parked[i] + " parked";
        cfg.targets = s.targets;
        cfg.connections = parked[i];
        cfg.threads = 1;
        cfg.workload = new Workload("read", false, KEYS, VALUE, "k");
        cfg.fixedPayload = poison;
        cfg.check = false;
        cfg.warmupMs = 0;
        cfg.durationMs = 1_800_000;
        cfg.progress = false;
        cfg.stop = stop;
        Thread th = new Thread(() -> { try { new LoadEngine(cfg).run(); } catch (Exception e) { e.printStackTrace(); } }, "parkers");
        th.setDaemon(true);
        th.start();
        parkers.add(th);
      }
      Thread.sleep(3000);
      JsonObject seen = new JsonObject();
      for (int i = 0; i < parked.length; i++) {
        JsonObject st = Cluster.stats(c.nodes.get(1 + i));
        seen.addProperty("parked" + parked[i], st.has("parked") ? st.get("parked").getAsLong() : -1);
      }
      res.add("parkedBefore", seen);
      res.add("loads", interleave("blocked", systems, "read95").run(List.of(new Interleave.Load("read95", "read95", CONNS))));
      JsonObject after = new JsonObject();
      for (int i = 0; i < parked.length; i++) {
        JsonObject st = Cluster.stats(c.nodes.get(1 + i));
        after.addProperty("parked" + parked[i], st.has("parked") ? st.get("parked").getAsLong() : -1);
      }
      res.add("parkedAfter", after);
    } finally {
      stop.set(true);
      for (Thread t : parkers) t.join(10_000);
      for (Cluster.Node n : c.nodes) Procs.signal(n.proc, "CONT");
      c.close();
    }
  }

  /** Convergence after healing a partition vs divergent keys, repeated; and lag across partition and heal. */
  private void partition() throws Exception {
    JsonObject res = new JsonObject();
    out.add("partition", res);
    boolean ns = Cluster.netnsAvailable();
    res.addProperty("method", ns
        ? "network namespaces on a bridge; node C isolated from A and B with iptables DROP (both directions); clients reach all nodes"
        : "no namespaces (not root or no iptables): node C SIGSTOPped while A is written, then SIGCONTed");
    int[][] plan = quick ? new int[][] {{10_000, 3}} : new int[][] {{10_000, 5}, {100_000, 2}};
    JsonArray rows = new JsonArray();
    res.add("rows", rows);
    if (ns) Cluster.teardownNetns(5);
    Cluster c = new Cluster(nodeJar, work, ns, ":memory:", null, null);
    try {
      c.define(3, 18900);
      c.startAll();
      Cluster.Node a = c.nodes.get(0);
      Cluster.Node cc = c.nodes.get(2);
      int round = 0;
      for (int[] step : plan) {
        int d = step[0];
        for (int rep = 0; rep < step[1]; rep++) {
          round++;
          boolean timeline = round == 1;
          LagProbe probe = null;
          if (timeline) {
            probe = new LagProbe(a.id, List.of(cc.id), "partprobe", 50, 50 * 600);
            probe.start();
            Thread.sleep(2000);
          }
          double cutMs = probe == null ? 0 : (System.nanoTime() - probe.t0Nanos) / 1e6;
          double la = Meter.loadavg1();
          if (ns) c.isolate(cc); else Procs.signal(cc.proc, "STOP");
          String prefix = "p" + round + "_";
          long tw = System.nanoTime();
          // the same keys written on both sides: every key diverges
          Thread wa = new Thread(() -> { try { load("side A", List.of(a.addr()), "load", 16, 0, d, VALUE, prefix, null, 0, 0); } catch (Exception e) { throw new RuntimeException(e); } });
          wa.start();
          if (ns) load("side C", List.of(cc.addr()), "load", 16, 0, d, VALUE, prefix, null, 0, 0);
          wa.join();
          double writeSecs = (System.nanoTime() - tw) / 1e9;
          Thread.sleep(1000);
          long healing = System.nanoTime();
          if (ns) c.heal(cc); else Procs.signal(cc.proc, "CONT");
          // the clock starts once the network is whole: the rules are gone (spawning iptables took this long)
          long heal = System.nanoTime();
          double healCommandMs = (heal - healing) / 1e6;
          double healMs = probe == null ? 0 : (heal - probe.t0Nanos) / 1e6;
          long conv = awaitConverged(c, 180_000);
          double convMs = conv < 0 ? -1 : (conv - heal) / 1e6;
          JsonObject row = new JsonObject();
          row.addProperty("divergentKeys", d);
          row.addProperty("rep", rep + 1);
          row.addProperty("writeSeconds", Result.round(writeSecs));
          row.addProperty("convergenceMs", Result.round(convMs));
          row.addProperty("healCommandMs", Result.round(healCommandMs));
          row.addProperty("loadavg1", la);
          rows.add(row);
          System.err.printf("   partition %d keys #%d: converged %.0f ms after heal%n", d, rep + 1, convMs);
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
            tl.addProperty("divergentKeys", d);
            tl.addProperty("cutS", Result.round(cutMs / 1000));
            tl.addProperty("healS", Result.round(healMs / 1000));
            tl.addProperty("convergedS", Result.round((healMs + convMs) / 1000));
            tl.add("points", pts);
            res.add("timeline", tl);
          }
          Thread.sleep(1000);
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

  /**
   * A node joins a 3-node store of 1M keys (100k in --quick) while clients keep reading and writing
   * at a fixed rate: time until it serves a read that needs the whole store, and its peak RSS
   * beside a member's steady RSS.
   */
  private void join() throws Exception {
    JsonObject res = new JsonObject();
    out.add("join", res);
    int size = quick ? 100_000 : 1_000_000;
    try (Cluster c = cluster(3, 19000, ":memory:", null, "join")) {
      Cluster.Node a = c.nodes.get(0);
      long t0 = System.nanoTime();
      load("join preload", c.addrs(), "load", CONNS, 0, size, VALUE, "j", null, 0, 0);
      double loadSecs = (System.nanoTime() - t0) / 1e9;
      String payload;
      try (Http h = new Http(a.id)) {
        payload = h.put("/keyValue-store/joinmarker", "val=" + size).payload();
      }
      awaitConverged(c, 180_000);
      Thread.sleep(2000);
      Procs.heapUsedAfterGc(a.pid()); // so that the member's RSS is its steady state, not its garbage
      long memberRss = Procs.rssKiB(a.pid());
      Cluster.Node d = c.defineOne(4, 19000);
      List<Cluster.Node> members = new ArrayList<>(c.nodes.subList(0, 3));
      members.add(d);
      c.start(d, c.view(members));
      Cluster.awaitUp(d, 60_000);
      // clients keep working on the members while the node joins
      AtomicBoolean stop = new AtomicBoolean();
      LoadEngine.Config bg = new LoadEngine.Config();
      bg.label = "join background";
      bg.targets = c.addrs().subList(0, 3);
      bg.connections = 16;
      bg.ratePerSec = 1000;
      bg.workload = new Workload("read95", false, KEYS, VALUE, "k");
      bg.warmupMs = 0;
      bg.durationMs = 600_000;
      bg.progress = false;
      bg.stop = stop;
      Result[] bgRes = new Result[1];
      Thread bgt = new Thread(() -> { try { bgRes[0] = new LoadEngine(bg).run(); } catch (Exception e) { e.printStackTrace(); } });
      bgt.setDaemon(true);
      bgt.start();
      Thread.sleep(1000);
      long tj = System.nanoTime();
      int vst;
      try (Http h = new Http(a.id)) {
        vst = h.put("/view", "ip_port=" + Http1.urlEncode(d.id)).status;
      }
      double viewMs = (System.nanoTime() - tj) / 1e6;
      double serveMs = -1;
      String q = "/keyValue-store/joinmarker?payload=" + Http1.urlEncode(payload);
      try (Http h = new Http(d.id, 5_000)) {
        long deadline = System.currentTimeMillis() + 180_000;
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
      long deadline = System.currentTimeMillis() + 180_000;
      while (System.currentTimeMillis() < deadline) {
        JsonObject sd = Cluster.stats(d);
        if (sd.has("keys") && sd.get("keys").getAsLong() >= want) { fullMs = (System.nanoTime() - tj) / 1e6; break; }
        Thread.sleep(50);
      }
      stop.set(true);
      bgt.join(10_000);
      res.addProperty("keys", size);
      res.addProperty("loadSeconds", Result.round(loadSecs));
      res.addProperty("putViewStatus", vst);
      res.addProperty("putViewMs", Result.round(viewMs));
      res.addProperty("servesReadsMs", Result.round(serveMs));
      res.addProperty("allKeysMs", Result.round(fullMs));
      res.addProperty("joinerPeakRssMiB", Meter.peakRssKiB(d.pid()) / 1024);
      res.addProperty("memberRssMiB", memberRss / 1024);
      res.addProperty("loadavg1", Meter.loadavg1());
      if (bgRes[0] != null) res.add("background", bgRes[0].toJson());
      System.err.println("   join " + res);
    }
  }

  /**
   * A lever's before/after: the node built from another commit ({@code --ab-jar}) beside this
   * build, one node each and three nodes each, interleaved. Only when asked for.
   */
  private void ab() throws Exception {
    if (abJar == null) {
      if (!only.contains("ab")) return; // not part of a normal run
      throw new IllegalStateException("phase ab needs --ab-jar PATH (the node jar built before the change)");
    }
    JsonObject res = new JsonObject();
    out.add("ab", res);
    res.addProperty("beforeJar", abJar.toString());
    res.addProperty("beforeCommit", abJar.getFileName().toString());
    List<Cluster> cs = new ArrayList<>();
    try {
      List<Interleave.Sys> one = new ArrayList<>();
      List<Interleave.Sys> three = new ArrayList<>();
      int port = 19100;
      for (String[] k : new String[][] {{"before", "x"}, {"after", "y"}}) {
        for (int n : new int[] {1, 3}) {
          Cluster c = new Cluster(k[0].equals("before") ? abJar : nodeJar, work, false, ":memory:", null, null);
          c.gcDir = gcDir;
          c.gcTag = "ab-" + k[0] + n;
          c.define(n, port);
          c.startAll();
          port += 10;
          cs.add(c);
          Interleave.Sys s = sys(k[0], c);
          preload(s.targets, KEYS, VALUE, "k");
          jitWarmUp(res, s);
          (n == 1 ? one : three).add(s);
        }
      }
      res.add("one", interleave("ab1", one, "read", "write").run(List.of(new Interleave.Load("read", "read", CONNS),
          new Interleave.Load("write", "write", CONNS), new Interleave.Load("mix50", "mix50", CONNS))));
      res.add("three", interleave("ab3", three).run(List.of(new Interleave.Load("mix50", "mix50", CONNS),
          new Interleave.Load("write", "write", CONNS))));
    } finally {
      for (Cluster c : cs) c.close();
    }
  }

  private void redis() throws Exception {
    JsonObject r = new JsonObject();
    out.add("redis", r);
    if (!RedisBaseline.available()) {
      r.addProperty("skipped", "redis-server / redis-benchmark not installed (apt-get install redis-server)");
      return;
    }
    int n = quick ? 200_000 : 500_000;
    Map<String, Double> m = RedisBaseline.run(work, CONNS, VALUE, KEYS, n);
    m.forEach(r::addProperty);
    r.addProperty("requests", n);
  }

  /** JMH micro-benchmarks, if the JMH jar was built: two forks, five measured iterations, with JMH's error. */
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
    // two forks and five measured iterations (one fork and three gave errors of 50-100%); 3-origin clocks only, for time
    List<String> cmd = new ArrayList<>(List.of("java", "-jar", jar.toString(), "-f", quick ? "1" : "2", "-wi", "2", "-w", "1s",
        "-i", quick ? "3" : "5", "-r", "1s", "-t", "1", "-p", "origins=3", "-rf", "json", "-rff", json.toString()));
    res.addProperty("settings", String.join(" ", cmd.subList(3, cmd.size())));
    res.addProperty("loadavg", loadavg());
    Process p = Procs.start(cmd, Map.of(), work.resolve("jmh.log"));
    if (!p.waitFor(20, java.util.concurrent.TimeUnit.MINUTES)) { Procs.stop(p); throw new IllegalStateException("jmh timed out"); }
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

  static Map<String, String> env(String... kv) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i + 1 < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
    return m;
  }
}
