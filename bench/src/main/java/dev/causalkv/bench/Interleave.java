package dev.causalkv.bench;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.hazelcast.core.HazelcastInstance;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/**
 * The method behind every ratio: all systems of a comparison are up at once, and each load is run
 * on them in turn, A B A B …, for a number of repetitions, so that whatever else the shared
 * machine does falls on both alike. Each repetition records throughput and latency, the CPU
 * every server process used (so ops per core-second, not only ops per second), the client's CPU,
 * the CPU of everything else on the machine, the load average, the socket bytes, and the causal
 * checks of {@link SessionCheck}; it is flagged when the machine was not quiet. Summaries are the
 * median with min and max; a ratio is the median of the per-repetition ratios A_i / B_i.
 */
final class Interleave {

  /** One system under test: its server processes and how the load reaches it. */
  static final class Sys {
    final String name;
    final List<Long> pids;
    final List<InetSocketAddress> targets;
    final HazelcastInstance hz;
    final List<Path> gcLogs;
    /** The process whose CPU profile is taken (one is enough: cluster nodes are symmetric). */
    final long profilePid;
    /** causalkv nodes whose loop lock statistics are read from /admin/stats; empty for baselines. */
    List<String> nodeIds = List.of();

    Sys(String name, List<Long> pids, List<InetSocketAddress> targets, HazelcastInstance hz, List<Path> gcLogs) {
      this.name = name;
      this.pids = pids;
      this.targets = targets;
      this.hz = hz;
      this.gcLogs = gcLogs;
      this.profilePid = pids.isEmpty() ? -1 : pids.get(0);
    }
  }

  /** One load, run on each system named in {@code on} (all when empty). */
  record Load(String name, String mix, int conns, long keys, int value, boolean zipf, List<String> on) {
    Load(String name, String mix, int conns) {
      this(name, mix, conns, 10_000, 100, false, List.of());
    }

    Load only(String... systems) {
      return new Load(name, mix, conns, keys, value, zipf, List.of(systems));
    }

    boolean runsOn(Sys s) {
      return on.isEmpty() || on.contains(s.name);
    }
  }

  private final String phase;
  private final List<Sys> systems;
  private final List<Long> allPids = new ArrayList<>();
  private final int reps;
  private final long warmMs;
  private final long measureMs;
  private final Profiler profiler;
  private final Path profileDir;
  private final Path work;
  private final Set<String> profiled;

  Interleave(String phase, List<Sys> systems, int reps, long warmMs, long measureMs, Profiler profiler, Path profileDir, Path work,
      Set<String> profiled) {
    this.phase = phase;
    this.systems = systems;
    for (Sys s : systems) allPids.addAll(s.pids);
    this.reps = reps;
    this.warmMs = warmMs;
    this.measureMs = measureMs;
    this.profiler = profiler;
    this.profileDir = profileDir;
    this.work = work;
    this.profiled = profiled;
  }

  /** Runs every load, interleaved, and returns {loadName: {mix, conns, reps: [...], summary, alloc, profiles}}. */
  JsonObject run(List<Load> loads) throws Exception {
    JsonObject out = new JsonObject();
    for (Load l : loads) out.add(l.name(), run(l));
    return out;
  }

  private JsonObject run(Load load) throws Exception {
    List<Sys> on = new ArrayList<>();
    for (Sys s : systems) if (load.runsOn(s)) on.add(s);
    JsonObject res = new JsonObject();
    res.addProperty("mix", load.mix());
    res.addProperty("conns", load.conns());
    res.addProperty("valueBytes", load.value());
    res.addProperty("keys", load.keys());
    JsonArray repsOut = new JsonArray();
    res.add("reps", repsOut);
    boolean profile = profiler != null && profiled.contains(load.name());
    long[] spanStart = new long[on.size()];
    long[] spanEnd = new long[on.size()];
    long[] spanOps = new long[on.size()];
    for (int rep = 0; rep < reps; rep++) {
      for (int i = 0; i < on.size(); i++) {
        Sys s = on.get(i);
        long t0 = System.currentTimeMillis();
        if (rep == 0) spanStart[i] = t0;
        JsonObject r = once(s, load, rep);
        spanEnd[i] = System.currentTimeMillis();
        spanOps[i] += r.get("totalOps").getAsLong();
        repsOut.add(r);
      }
    }
    JsonObject alloc = new JsonObject();
    for (int i = 0; i < on.size(); i++) {
      Sys s = on.get(i);
      if (s.gcLogs.isEmpty()) continue;
      long bytes = 0;
      int gcs = 0;
      double pause = 0;
      for (Path g : s.gcLogs) {
        GcLog.Span sp = GcLog.read(g).span(spanStart[i], spanEnd[i]);
        bytes += sp.allocatedBytes();
        gcs += sp.collections();
        pause += sp.pauseMs();
      }
      JsonObject a = new JsonObject();
      a.addProperty("bytesPerOp", Result.round((double) bytes / Math.max(1, spanOps[i])));
      a.addProperty("collections", gcs);
      a.addProperty("pauseMsPerProcess", Result.round(pause / s.gcLogs.size()));
      a.addProperty("ops", spanOps[i]);
      alloc.add(s.name, a);
    }
    res.add("alloc", alloc);
    if (profile) {
      // After the measured repetitions, so that they carry neither the agent's sampling nor the
      // recompilation its attach causes: attach, let the system recompile, then profile one run.
      JsonObject profs = new JsonObject();
      for (Sys s : on) {
        if (s.profilePid <= 0) continue;
        String base = phase + "-" + load.name() + "-" + s.name;
        Files.createDirectories(profileDir);
        Files.createDirectories(work.resolve("profiles"));
        Path raw = work.resolve("profiles").resolve(base);
        once(s, load, -1); // settle
        profiler.start(s.profilePid);
        once(s, load, -1);
        profiler.stop(s.profilePid, raw, true);
        Path html = Path.of(raw + ".html");
        JsonObject p = Profiler.hotMethods(List.of(Path.of(raw + ".collapsed")), 14);
        if (Files.exists(html)) {
          Files.move(html, profileDir.resolve(base + ".html"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
          p.addProperty("flameGraph", "bench/profiles/" + base + ".html");
        }
        profs.add(s.name, p);
      }
      res.add("profiles", profs);
    }
    res.add("summary", summarize(repsOut, on));
    return res;
  }

  /** One repetition of {@code load} on {@code s}. */
  private JsonObject once(Sys s, Load load, int rep) throws Exception {
    Meter.Snap[] snaps = new Meter.Snap[2];
    long[][] locks = new long[2][];
    Runnable start = () -> { locks[0] = lockStats(s.nodeIds); snaps[0] = Meter.take(allPids); };
    Runnable end = () -> { snaps[1] = Meter.take(allPids); locks[1] = lockStats(s.nodeIds); };
    Workload wl = new Workload(load.mix(), load.zipf(), load.keys(), load.value(), "k");
    String label = phase + " " + load.name() + " " + s.name + (rep < 0 ? " (for the profile, not recorded)" : " #" + (rep + 1));
    Result r;
    if (s.hz != null) {
      r = HazelcastBaseline.run(s.hz, label, wl, load.conns(), warmMs, measureMs, start, end);
    } else {
      LoadEngine.Config c = new LoadEngine.Config();
      c.label = label;
      c.targets = s.targets;
      c.connections = load.conns();
      c.workload = wl;
      c.warmupMs = warmMs;
      c.durationMs = measureMs;
      c.progress = false;
      c.seed = 42 + rep;
      c.onMeasureStart = start;
      c.onMeasureEnd = end;
      r = new LoadEngine(c).run();
    }
    Meter.Window w = Meter.between(snaps[0], snaps[1]);
    JsonObject o = measured(s, r, w);
    if (!s.nodeIds.isEmpty()) addLock(o, locks[0], locks[1], r.total(), w.seconds() * s.nodeIds.size());
    o.addProperty("sys", s.name);
    o.addProperty("rep", rep + 1);
    System.err.printf("   %-44s %9.0f ops/s  %6.1f µs CPU/op  %s%s%n", label, r.throughput(),
        o.get("serverCpuUsPerOp").getAsDouble(), o.get("flagged").getAsBoolean() ? "[flagged: " + o.get("flagReason").getAsString() + "] " : "",
        r.checks.violations() > 0 ? "[CAUSAL CHECK VIOLATIONS " + r.checks.violations() + "]" : "");
    return o;
  }

  /** The loop lock counters of docs: steps, wait, step, commit, advance (ns), summed over nodes. */
  static long[] lockStats(List<String> ids) {
    if (ids.isEmpty()) return null;
    long[] t = new long[5];
    boolean any = false;
    String[] k = {"steps", "waitNanos", "stepNanos", "commitNanos", "advanceNanos"};
    for (String id : ids) {
      try (Http h = new Http(id, 5_000)) {
        Http.Reply rep = h.get("/admin/stats");
        JsonObject o = com.google.gson.JsonParser.parseString(rep.body).getAsJsonObject();
        if (!o.has("loop")) continue;
        any = true;
        JsonObject l = o.getAsJsonObject("loop");
        for (int i = 0; i < k.length; i++) t[i] += l.get(k[i]).getAsLong();
      } catch (Exception ignored) { }
    }
    return any ? t : null; // a build without the counters
  }

  /** How long the loop's lock was waited for and held, per client operation, and how busy it was. */
  static void addLock(JsonObject o, long[] a, long[] b, long ops, double nodeSeconds) {
    if (a == null || b == null) return;
    double n = Math.max(1, ops);
    long held = (b[2] - a[2]) + (b[3] - a[3]) + (b[4] - a[4]);
    o.addProperty("stepsPerOp", Result.round((b[0] - a[0]) / n));
    o.addProperty("lockHeldUsPerOp", Result.round(held / 1e3 / n));
    o.addProperty("lockWaitUsPerOp", Result.round((b[1] - a[1]) / 1e3 / n));
    o.addProperty("coreStepUsPerOp", Result.round((b[2] - a[2]) / 1e3 / n));
    o.addProperty("commitUsPerOp", Result.round((b[3] - a[3]) / 1e3 / n));
    o.addProperty("advanceUsPerOp", Result.round((b[4] - a[4]) / 1e3 / n));
    o.addProperty("lockBusyFraction", Result.round(held / 1e9 / Math.max(1e-9, nodeSeconds)));
  }

  /** The figures of one measured window. */
  static JsonObject measured(Sys s, Result r, Meter.Window w) {
    JsonObject o = r.toJson();
    long ops = r.total();
    double cpu = w.cpuSeconds(s.pids);
    int cores = Runtime.getRuntime().availableProcessors();
    o.addProperty("serverCpuCores", Result.round(cpu / Math.max(1e-9, w.seconds())));
    o.addProperty("serverCpuUsPerOp", Result.round(cpu * 1e6 / Math.max(1, ops)));
    o.addProperty("opsPerCoreSecond", Result.round(ops / Math.max(1e-9, cpu)));
    o.addProperty("clientCpuUsPerOp", Result.round(w.selfCpuSeconds() * 1e6 / Math.max(1, ops)));
    o.addProperty("othersCores", Result.round(w.othersCores()));
    o.addProperty("loadavg1", w.loadavg1AtStart());
    boolean busyBefore = w.loadavg1AtStart() > cores;
    boolean others = w.othersCores() > 0.25;
    o.addProperty("flagged", busyBefore || others);
    o.addProperty("flagReason", (busyBefore ? "load average " + w.loadavg1AtStart() + " > " + cores + " cores" : "")
        + (busyBefore && others ? "; " : "") + (others ? String.format("other processes used %.2f cores", w.othersCores()) : ""));
    long rc = w.rchar(s.pids);
    long wc = w.wchar(s.pids);
    o.addProperty("serverReadBytesPerOp", Result.round((double) rc / Math.max(1, ops)));
    o.addProperty("serverWrittenBytesPerOp", Result.round((double) wc / Math.max(1, ops)));
    if (s.hz == null) {
      o.addProperty("clientBytesPerOp", Result.round((double) (r.bytesSent + r.bytesReceived) / Math.max(1, ops)));
      // what the servers wrote beyond their answers to clients, and read beyond the clients' requests: peer traffic
      long puts = r.hist[Workload.Op.PUT.ordinal()].getTotalCount() + r.hist[Workload.Op.DELETE.ordinal()].getTotalCount();
      o.addProperty("peerBytesOut", Math.max(0, wc - r.bytesReceived));
      o.addProperty("peerBytesIn", Math.max(0, rc - r.bytesSent));
      if (puts > 0) {
        o.addProperty("peerBytesOutPerWrite", Result.round((double) Math.max(0, wc - r.bytesReceived) / puts));
        o.addProperty("peerBytesInPerWrite", Result.round((double) Math.max(0, rc - r.bytesSent) / puts));
      }
    }
    return o;
  }

  /** Per system: median, min and max of the main figures over its repetitions. */
  static JsonObject summarize(JsonArray reps, List<Sys> on) {
    JsonObject out = new JsonObject();
    String[] metrics = {"opsPerSec", "serverCpuUsPerOp", "opsPerCoreSecond", "clientCpuUsPerOp", "serverCpuCores", "othersCores",
        "loadavg1", "peerBytesOutPerWrite", "clientBytesPerOp", "lockHeldUsPerOp", "lockWaitUsPerOp", "coreStepUsPerOp",
        "commitUsPerOp", "advanceUsPerOp", "lockBusyFraction", "stepsPerOp"};
    for (Sys s : on) {
      JsonObject m = new JsonObject();
      int flagged = 0;
      long violations = 0;
      long checked = 0;
      for (String k : metrics) {
        List<Double> v = new ArrayList<>();
        for (JsonElement e : reps) {
          JsonObject r = e.getAsJsonObject();
          if (!r.get("sys").getAsString().equals(s.name) || !r.has(k)) continue;
          v.add(r.get(k).getAsDouble());
        }
        if (!v.isEmpty()) m.add(k, mmm(v));
      }
      for (String op : new String[] {"GET", "PUT"}) {
        for (String pk : new String[] {"p50ms", "p99ms", "p999ms"}) {
          List<Double> v = new ArrayList<>();
          for (JsonElement e : reps) {
            JsonObject r = e.getAsJsonObject();
            if (!r.get("sys").getAsString().equals(s.name)) continue;
            JsonObject ops = r.getAsJsonObject("ops");
            if (ops.has(op)) v.add(ops.getAsJsonObject(op).get(pk).getAsDouble());
          }
          if (!v.isEmpty()) m.add(op + "." + pk, mmm(v));
        }
      }
      for (JsonElement e : reps) {
        JsonObject r = e.getAsJsonObject();
        if (!r.get("sys").getAsString().equals(s.name)) continue;
        if (r.get("flagged").getAsBoolean()) flagged++;
        violations += r.getAsJsonObject("checks").get("violations").getAsLong();
        checked += r.getAsJsonObject("checks").get("payloads").getAsLong();
      }
      m.addProperty("flaggedReps", flagged);
      m.addProperty("checkedAnswers", checked);
      m.addProperty("checkViolations", violations);
      out.add(s.name, m);
    }
    return out;
  }

  /** [median, min, max]. */
  static JsonArray mmm(List<Double> v) {
    List<Double> s = new ArrayList<>(v);
    Collections.sort(s);
    double med = s.size() % 2 == 1 ? s.get(s.size() / 2) : (s.get(s.size() / 2 - 1) + s.get(s.size() / 2)) / 2;
    JsonArray a = new JsonArray();
    a.add(Result.round(med));
    a.add(Result.round(s.get(0)));
    a.add(Result.round(s.get(s.size() - 1)));
    return a;
  }

  /** The per-repetition ratio a_i / b_i of {@code metric} between two systems of one load: [median, min, max], or null. */
  static JsonArray ratio(JsonObject load, String a, String b, String metric) {
    if (load == null || !load.has("reps")) return null;
    List<Double> av = new ArrayList<>();
    List<Double> bv = new ArrayList<>();
    for (JsonElement e : load.getAsJsonArray("reps")) {
      JsonObject r = e.getAsJsonObject();
      Double v = value(r, metric);
      if (v == null) continue;
      if (r.get("sys").getAsString().equals(a)) av.add(v);
      else if (r.get("sys").getAsString().equals(b)) bv.add(v);
    }
    List<Double> q = new ArrayList<>();
    for (int i = 0; i < Math.min(av.size(), bv.size()); i++) if (bv.get(i) > 0) q.add(av.get(i) / bv.get(i));
    return q.isEmpty() ? null : mmm(q);
  }

  /** A figure of one repetition: a top-level number, or {@code OP.pXXms}. */
  static Double value(JsonObject rep, String metric) {
    int dot = metric.indexOf('.');
    if (dot > 0 && rep.has("ops")) {
      JsonObject ops = rep.getAsJsonObject("ops");
      String op = metric.substring(0, dot);
      return ops.has(op) ? ops.getAsJsonObject(op).get(metric.substring(dot + 1)).getAsDouble() : null;
    }
    return rep.has(metric) ? rep.get(metric).getAsDouble() : null;
  }
}
