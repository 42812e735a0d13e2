package dev.causalkv.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a JVM's {@code -Xlog:gc:file=...:timemillis} log: every collection with its time, heap
 * used before and after, and pause. Bytes allocated over a span are the sum of the heap's growth
 * between consecutive collections (used before one minus used after the previous), which is what
 * the application allocated, to within one young generation at each end of the span.
 */
final class GcLog {

  /** The JVM option that writes the log this class reads. */
  static String option(Path file) {
    return "-Xlog:gc:file=" + file + ":timemillis";
  }

  record Event(long atMillis, long beforeBytes, long afterBytes, double pauseMs, boolean pause) {}

  /** Allocation and collection over a span. */
  record Span(long allocatedBytes, int collections, double pauseMs, double seconds) {}

  // [1701540781123ms] GC(5) Pause Young (Normal) (G1 Evacuation Pause) 25M->3M(256M) 2.345ms
  private static final Pattern LINE = Pattern.compile(
      "^\\[(\\d+)ms\\] GC\\(\\d+\\) (.*?) (\\d+)([KMG])->(\\d+)([KMG])\\((\\d+)[KMG]\\) ([0-9.]+)ms");

  private final List<Event> events = new ArrayList<>();

  private GcLog(List<Event> events) {
    this.events.addAll(events);
  }

  static GcLog read(Path file) {
    List<Event> out = new ArrayList<>();
    try {
      if (Files.exists(file)) {
        for (String line : Files.readAllLines(file)) {
          Matcher m = LINE.matcher(line);
          if (!m.find()) continue;
          out.add(new Event(Long.parseLong(m.group(1)), bytes(m.group(3), m.group(4)), bytes(m.group(5), m.group(6)),
              Double.parseDouble(m.group(8)), m.group(2).startsWith("Pause")));
        }
      }
    } catch (IOException ignored) { }
    return new GcLog(out);
  }

  private static long bytes(String n, String unit) {
    long v = Long.parseLong(n);
    return switch (unit) {
      case "K" -> v << 10;
      case "M" -> v << 20;
      default -> v << 30;
    };
  }

  /** What happened between {@code fromMillis} and {@code toMillis} (wall clock). */
  Span span(long fromMillis, long toMillis) {
    long alloc = 0;
    int n = 0;
    double pause = 0;
    Event prev = null;
    for (Event e : events) {
      if (e.atMillis() > fromMillis && e.atMillis() <= toMillis) {
        if (prev != null) alloc += Math.max(0, e.beforeBytes() - prev.afterBytes());
        n++;
        if (e.pause()) pause += e.pauseMs();
      }
      prev = e;
    }
    return new Span(alloc, n, pause, (toMillis - fromMillis) / 1000.0);
  }
}
