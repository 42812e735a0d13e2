package dev.causalkv.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * Replication lag, measured from outside: a writer on node A overwrites one probe key with
 * 1, 2, 3, ... at a fixed rate and notes when each write is acknowledged; a reader per other
 * node polls the key (empty payload, so it never waits) and notes when each value first
 * becomes visible there. Lag of write i at node B = first time B shows a value >= i minus
 * the acknowledgement time of i (a later value dominates i, so i is reflected by then).
 * Values visible before their acknowledgement reached the writer count as 0.
 */
final class LagProbe {
  final String writer;
  final List<String> readers;
  final String key;
  final long intervalMicros;
  final int maxWrites;
  volatile boolean stop;
  final long[] ackNanos;
  final long[][] seenNanos;
  volatile int written;
  long t0Nanos;
  final List<Thread> threads = new ArrayList<>();

  LagProbe(String writer, List<String> readers, String key, double ratePerSec, int maxWrites) {
    this.writer = writer;
    this.readers = readers;
    this.key = key;
    this.intervalMicros = (long) (1e6 / ratePerSec);
    this.maxWrites = maxWrites;
    this.ackNanos = new long[maxWrites + 1];
    this.seenNanos = new long[readers.size()][maxWrites + 1];
  }

  void start() {
    t0Nanos = System.nanoTime();
    Thread w = new Thread(() -> {
      try (Http h = new Http(writer, 5_000)) {
        String payload = null;
        long next = System.nanoTime();
        for (int i = 1; i <= maxWrites && !stop; i++) {
          long now = System.nanoTime();
          if (next > now) java.util.concurrent.locks.LockSupport.parkNanos(next - now);
          next += intervalMicros * 1000;
          String form = "val=" + i + (payload == null ? "" : "&payload=" + Http1.urlEncode(payload));
          try {
            Http.Reply r = h.put("/keyValue-store/" + key, form);
            ackNanos[i] = System.nanoTime();
            written = i;
            String p = r.payload();
            if (p != null) payload = p;
          } catch (Exception e) {
            ackNanos[i] = -1;
            written = i;
          }
        }
      }
    }, "lag-writer");
    w.setDaemon(true);
    threads.add(w);
    for (int r = 0; r < readers.size(); r++) {
      final int ri = r;
      Thread t = new Thread(() -> {
        long[] seen = seenNanos[ri];
        int best = 0;
        try (Http h = new Http(readers.get(ri), 5_000)) {
          while (!stop) {
            try {
              Http.Reply rep = h.get("/keyValue-store/" + key);
              long now = System.nanoTime();
              if (rep.status == 200) {
                int v = parseValue(rep.body);
                if (v > best && v <= maxWrites) {
                  for (int u = best + 1; u <= v; u++) seen[u] = now;
                  best = v;
                }
              }
            } catch (Exception e) {
              java.util.concurrent.locks.LockSupport.parkNanos(5_000_000L);
            }
            // 1 ms between polls: fine enough for a 10 ms target, and the pollers' own load stays small
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
          }
        }
      }, "lag-reader-" + r);
      t.setDaemon(true);
      threads.add(t);
    }
    threads.forEach(Thread::start);
  }

  void stopAndJoin() throws InterruptedException {
    stop = true;
    for (Thread t : threads) t.join(10_000);
  }

  static int parseValue(String body) {
    int i = body.indexOf("\"value\"");
    if (i < 0) return 0;
    i = body.indexOf(':', i) + 1;
    while (i < body.length() && (body.charAt(i) == ' ' || body.charAt(i) == '"')) i++;
    int v = 0;
    while (i < body.length() && Character.isDigit(body.charAt(i))) v = v * 10 + (body.charAt(i++) - '0');
    return v;
  }

  /** One measured write at one reader: times are ms since the probe started; lag -1 = never seen. */
  record Sample(int reader, int seq, double ackMs, double lagMs) {}

  List<Sample> samples() {
    List<Sample> out = new ArrayList<>();
    int n = written;
    for (int r = 0; r < readers.size(); r++) {
      for (int i = 1; i <= n; i++) {
        if (ackNanos[i] <= 0) continue;
        double ack = (ackNanos[i] - t0Nanos) / 1e6;
        long s = seenNanos[r][i];
        double lag = s == 0 ? -1 : Math.max(0, (s - ackNanos[i]) / 1e6);
        out.add(new Sample(r, i, ack, lag));
      }
    }
    return out;
  }

  /** p50/p99/max of lag over samples acknowledged in [fromMs, toMs); unseen ones count as lost. */
  static double[] summary(List<Sample> samples, double fromMs, double toMs) {
    org.HdrHistogram.Histogram h = new org.HdrHistogram.Histogram(3_600_000_000L, 3);
    long unseen = 0;
    for (Sample s : samples) {
      if (s.ackMs() < fromMs || s.ackMs() >= toMs) continue;
      if (s.lagMs() < 0) { unseen++; continue; }
      h.recordValue(Math.max(1, (long) (s.lagMs() * 1000)));
    }
    if (h.getTotalCount() == 0) return new double[] {Double.NaN, Double.NaN, Double.NaN, 0, unseen};
    return new double[] {h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0,
        h.getTotalCount(), unseen};
  }
}
