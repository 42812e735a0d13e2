package dev.causalkv.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the kernel says each process used over a window: CPU time (utime + stime from
 * {@code /proc/<pid>/stat}, every thread included) and bytes through read/write system calls
 * ({@code rchar}/{@code wchar} from {@code /proc/<pid>/io}: sockets, headers included, and any file
 * I/O); plus the whole machine's busy time ({@code /proc/stat}), so that the CPU the benchmark's
 * own processes did not use (other work on a shared machine) can be told apart, and the load
 * average when the window opened.
 */
final class Meter {

  /** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
  static final double TICKS = ticks();

  /** One reading of a process. */
  record Proc(long cpuTicks, long rchar, long wchar) {}

  /** One reading of every watched process and of the machine. */
  record Snap(long nanos, Map<Long, Proc> procs, long selfTicks, long machineBusy, long machineAll, double loadavg1) {}

  /** What a window used. */
  record Window(double seconds, Map<Long, Proc> procs, double selfCpuSeconds, double machineBusyCores, double othersCores,
      double loadavg1AtStart) {
    /** CPU seconds used by {@code pids} together. */
    double cpuSeconds(Collection<Long> pids) {
      long t = 0;
      for (long p : pids) { Proc x = procs.get(p); if (x != null) t += x.cpuTicks(); }
      return t / TICKS;
    }

    long rchar(Collection<Long> pids) {
      long t = 0;
      for (long p : pids) { Proc x = procs.get(p); if (x != null) t += x.rchar(); }
      return t;
    }

    long wchar(Collection<Long> pids) {
      long t = 0;
      for (long p : pids) { Proc x = procs.get(p); if (x != null) t += x.wchar(); }
      return t;
    }
  }

  private static final long SELF = ProcessHandle.current().pid();

  private Meter() {}

  static Snap take(Collection<Long> pids) {
    Map<Long, Proc> m = new LinkedHashMap<>();
    for (long p : pids) m.put(p, proc(p));
    long[] machine = machine();
    return new Snap(System.nanoTime(), m, proc(SELF).cpuTicks(), machine[0], machine[1], loadavg1());
  }

  static Window between(Snap a, Snap b) {
    double secs = (b.nanos() - a.nanos()) / 1e9;
    Map<Long, Proc> d = new LinkedHashMap<>();
    long ours = b.selfTicks() - a.selfTicks();
    for (Map.Entry<Long, Proc> e : b.procs().entrySet()) {
      Proc x = a.procs().get(e.getKey());
      if (x == null) continue;
      Proc y = e.getValue();
      Proc delta = new Proc(y.cpuTicks() - x.cpuTicks(), y.rchar() - x.rchar(), y.wchar() - x.wchar());
      d.put(e.getKey(), delta);
      ours += delta.cpuTicks();
    }
    double busy = (b.machineBusy() - a.machineBusy()) / TICKS / Math.max(1e-9, secs);
    double others = Math.max(0, busy - ours / TICKS / Math.max(1e-9, secs));
    return new Window(secs, d, (b.selfTicks() - a.selfTicks()) / TICKS, busy, others, a.loadavg1());
  }

  /** CPU ticks (utime + stime) and I/O bytes of one process; zeros once it is gone. */
  static Proc proc(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      // fields after the command name (which may hold spaces) start after the last ')'
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
      long rchar = 0;
      long wchar = 0;
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/io"))) {
        if (line.startsWith("rchar:")) rchar = Long.parseLong(line.substring(6).trim());
        else if (line.startsWith("wchar:")) wchar = Long.parseLong(line.substring(6).trim());
      }
      return new Proc(ticks, rchar, wchar);
    } catch (IOException | RuntimeException e) {
      return new Proc(0, 0, 0);
    }
  }

  /** {busy, all} jiffies of the whole machine from the first line of /proc/stat. */
  private static long[] machine() {
    try {
      String line = Files.readAllLines(Path.of("/proc/stat")).get(0);
      String[] f = line.trim().split("\\s+");
      long all = 0;
      long idle = 0;
      for (int i = 1; i < f.length && i <= 8; i++) { // user nice system idle iowait irq softirq steal
        long v = Long.parseLong(f[i]);
        all += v;
        if (i == 4 || i == 5) idle += v;
      }
      return new long[] {all - idle, all};
    } catch (IOException | RuntimeException e) {
      return new long[] {0, 0};
    }
  }

  static double loadavg1() {
    try {
      return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  /** Peak resident set size (VmHWM) of a process in KiB, -1 if unknown. */
  static long peakRssKiB(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    } catch (IOException ignored) { }
    return -1;
  }

  private static double ticks() {
    try {
      return Double.parseDouble(Procs.run("getconf", "CLK_TCK").trim());
    } catch (RuntimeException e) {
      return 100;
    }
  }
}
