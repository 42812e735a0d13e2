package dev.causalkv.bench;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Child processes of the suite (nodes, baselines): started with logs in the work directory,
 * always stopped by their own pid, never by name.
 */
final class Procs {
  private static final List<Process> ALL = new ArrayList<>();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(Procs::stopAll));
  }

  private Procs() {}

  static synchronized Process start(List<String> cmd, Map<String, String> env, Path log) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    Process p = pb.start();
    ALL.add(p);
    return p;
  }

  static void stop(Process p) {
    if (p == null) return;
    signal(p, "CONT");
    p.destroy();
    try {
      if (!p.waitFor(5, TimeUnit.SECONDS)) { p.destroyForcibly(); p.waitFor(5, TimeUnit.SECONDS); }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (Procs.class) { ALL.remove(p); }
  }

  static void signal(Process p, String sig) {
    if (p == null || !p.isAlive()) return;
    run("kill", "-" + sig, Long.toString(p.pid()));
  }

  static synchronized void stopAll() {
    for (Process p : new ArrayList<>(ALL)) {
      signal(p, "CONT");
      p.destroy();
    }
    for (Process p : new ArrayList<>(ALL)) {
      try { if (!p.waitFor(5, TimeUnit.SECONDS)) p.destroyForcibly(); } catch (InterruptedException ignored) { }
    }
    ALL.clear();
  }

  /** Runs a short command, returns its stdout (stderr merged), or "" on failure. */
  static String run(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      p.waitFor(60, TimeUnit.SECONDS);
      return new String(out).trim();
    } catch (IOException | InterruptedException e) {
      return "";
    }
  }

  static int runRc(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      return p.waitFor(60, TimeUnit.SECONDS) ? p.exitValue() : -1;
    } catch (IOException | InterruptedException e) {
      return -1;
    }
  }

  static boolean onPath(String exe) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      if (Files.isExecutable(Path.of(dir, exe))) return true;
    }
    return false;
  }

  /** Resident set size of a process in KiB, from /proc. */
  static long rssKiB(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    } catch (IOException ignored) { }
    return -1;
  }

  /** Java heap in use after a full GC, in bytes, via jcmd; -1 if unavailable. */
  static long heapUsedAfterGc(long pid) {
    if (!onPath("jcmd")) return -1;
    run("jcmd", Long.toString(pid), "GC.run");
    String info = run("jcmd", Long.toString(pid), "GC.heap_info");
    // G1: " garbage-first heap   total 262144K, used 12345K [..."; Parallel/Serial similar
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("total \\d+K, used (\\d+)K").matcher(info);
    if (m.find()) return Long.parseLong(m.group(1)) * 1024;
    return -1;
  }

  static long duBytes(Path dir) {
    String out = run("du", "-sb", dir.toString());
    try { return Long.parseLong(out.split("\\s+")[0]); } catch (RuntimeException e) { return -1; }
  }
}
