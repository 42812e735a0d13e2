package dev.causalkv.bench;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * CPU profiles of the processes under test with async-profiler (from its Maven artifact, which
 * ships the native library) in {@code itimer} mode: this machine has no PMU for perf events. The
 * agent is loaded into a running JVM with {@code jcmd PID JVMTI.agent_load}, started after the
 * warm-up, and stopped after the last repetition, writing a flame graph (HTML) and the collapsed
 * stacks that {@link #hotMethods} turns into a table. Both the system and its baseline are
 * profiled the same way, so the sampling's small overhead does not bias their ratio.
 */
final class Profiler {

  private final Path lib;

  private Profiler(Path lib) {
    this.lib = lib;
  }

  /** The profiler, its library unpacked into {@code work}; null (profiles skipped) when unavailable. */
  static Profiler create(Path work) {
    if (!Procs.onPath("jcmd")) return null;
    try (InputStream in = Profiler.class.getResourceAsStream("/linux-x64/libasyncProfiler.so")) {
      if (in == null) return null;
      Path lib = work.resolve("libasyncProfiler.so");
      Files.copy(in, lib, StandardCopyOption.REPLACE_EXISTING);
      return new Profiler(lib);
    } catch (IOException e) {
      return null;
    }
  }

  void start(long pid) {
    command(pid, "start,event=itimer,interval=10ms");
  }

  /** Stops profiling {@code pid}: {@code base}.collapsed (stacks) and, if {@code html}, {@code base}.html (flame graph). */
  void stop(long pid, Path base, boolean html) {
    command(pid, "dump,collapsed,file=" + base + ".collapsed");
    if (html) command(pid, "stop,file=" + base + ".html,title=" + base.getFileName());
    else command(pid, "stop");
  }

  private void command(long pid, String args) {
    // jcmd parses key=value arguments itself: quoted, the agent's option string passes whole
    Procs.run("jcmd", Long.toString(pid), "JVMTI.agent_load", lib.toString(), "\"" + args + "\"");
  }

  /**
   * The hottest frames of collapsed stacks: self (top of stack) and total (anywhere in the stack,
   * counted once per sample), as shares of all samples. Frames are shortened to class.method.
   */
  static JsonObject hotMethods(List<Path> collapsed, int top) {
    Map<String, Long> self = new HashMap<>();
    Map<String, Long> total = new HashMap<>();
    long all = 0;
    for (Path p : collapsed) {
      List<String> lines;
      try {
        lines = Files.readAllLines(p);
      } catch (IOException e) {
        continue;
      }
      for (String line : lines) {
        int sp = line.lastIndexOf(' ');
        if (sp < 0) continue;
        long n;
        try {
          n = Long.parseLong(line.substring(sp + 1).trim());
        } catch (NumberFormatException e) {
          continue;
        }
        String[] frames = line.substring(0, sp).split(";");
        all += n;
        self.merge(shorten(frames[frames.length - 1]), n, Long::sum);
        Set<String> seen = new HashSet<>();
        for (String f : frames) {
          String s = shorten(f);
          if (seen.add(s)) total.merge(s, n, Long::sum);
        }
      }
    }
    JsonObject o = new JsonObject();
    o.addProperty("samples", all);
    o.add("self", topOf(self, all, top, false));
    o.add("total", topOf(total, all, top, true));
    return o;
  }

  /** The top entries; for totals only frames of interest (not threads' run/loop frames of the JDK). */
  private static JsonArray topOf(Map<String, Long> m, long all, int top, boolean interesting) {
    List<Map.Entry<String, Long>> es = new ArrayList<>(m.entrySet());
    es.sort((a, b) -> Long.compare(b.getValue(), a.getValue()));
    JsonArray a = new JsonArray();
    for (Map.Entry<String, Long> e : es) {
      if (a.size() >= top) break;
      if (interesting && !interesting(e.getKey())) continue;
      JsonArray row = new JsonArray();
      row.add(e.getKey());
      row.add(Result.round(100.0 * e.getValue() / Math.max(1, all)));
      a.add(row);
    }
    return a;
  }

  private static boolean interesting(String frame) {
    return frame.startsWith("dev.causalkv") || frame.startsWith("io.undertow.server.protocol.http.HttpReadListener")
        || frame.startsWith("com.google.gson") || frame.startsWith("org.rocksdb") || frame.startsWith("okhttp3.internal.http")
        || frame.startsWith("com.hazelcast") || frame.contains("GC") || frame.contains("Compile") || frame.startsWith("sun.nio.ch.SocketDispatcher");
  }

  /** {@code java/util/HashMap.get} → {@code java.util.HashMap.get}; native frames keep their names. */
  static String shorten(String frame) {
    String f = frame;
    if (f.endsWith("_[j]") || f.endsWith("_[i]") || f.endsWith("_[k]")) f = f.substring(0, f.length() - 4);
    return f.replace('/', '.');
  }
}
