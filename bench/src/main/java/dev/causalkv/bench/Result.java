package dev.causalkv.bench;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import org.HdrHistogram.Histogram;

/** The outcome of one load run: throughput and latency per operation, and error counts. */
final class Result {
  final String label;
  String workload = "";
  int connections;
  double targetRate;
  double seconds;
  final Histogram[] hist = new Histogram[Workload.Op.values().length];
  final long[] ok = new long[hist.length];
  long notFound;
  long outOfDate;
  long otherErrors;
  long ioErrors;
  /** Answers received in all, warm-up included (allocation per op is taken over whole runs). */
  long totalOps;
  /** Client-side HTTP bytes (headers included) sent and received in the measured window. */
  long bytesSent;
  long bytesReceived;
  final SessionCheck.Counts checks = new SessionCheck.Counts();

  Result(String label) {
    this.label = label;
    for (int i = 0; i < hist.length; i++) hist[i] = new Histogram(60_000_000L, 3);
  }

  void add(LoadEngine.Stats s) {
    for (int i = 0; i < hist.length; i++) { hist[i].add(s.hist[i]); ok[i] += s.ok[i]; }
    notFound += s.notFound; outOfDate += s.outOfDate; otherErrors += s.otherErrors; ioErrors += s.ioErrors;
    bytesSent += s.bytesSent; bytesReceived += s.bytesReceived;
    checks.add(s.checks);
  }

  /** Adds an externally measured histogram (Hazelcast driver). */
  void add(Workload.Op op, Histogram h, long okCount) {
    hist[op.ordinal()].add(h);
    ok[op.ordinal()] += okCount;
  }

  long total() {
    long t = 0;
    for (Histogram h : hist) t += h.getTotalCount();
    return t;
  }

  double throughput() {
    return seconds <= 0 ? 0 : total() / seconds;
  }

  double opThroughput(Workload.Op op) {
    return seconds <= 0 ? 0 : hist[op.ordinal()].getTotalCount() / seconds;
  }

  /** Latency percentile in milliseconds over all operations. */
  double pctAll(double p) {
    Histogram all = new Histogram(60_000_000L, 3);
    for (Histogram h : hist) all.add(h);
    return all.getTotalCount() == 0 ? Double.NaN : all.getValueAtPercentile(p) / 1000.0;
  }

  double pct(Workload.Op op, double p) {
    Histogram h = hist[op.ordinal()];
    return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(p) / 1000.0;
  }

  Histogram merged() {
    Histogram all = new Histogram(60_000_000L, 3);
    for (Histogram h : hist) all.add(h);
    return all;
  }

  JsonObject toJson() {
    JsonObject o = new JsonObject();
    o.addProperty("label", label);
    o.addProperty("workload", workload);
    o.addProperty("connections", connections);
    o.addProperty("targetRate", targetRate);
    o.addProperty("seconds", round(seconds));
    o.addProperty("opsPerSec", round(throughput()));
    if (targetRate > 0) o.addProperty("saturated", throughput() < 0.9 * targetRate);
    o.addProperty("notFound", notFound);
    o.addProperty("outOfDate", outOfDate);
    o.addProperty("otherErrors", otherErrors);
    o.addProperty("ioErrors", ioErrors);
    o.addProperty("totalOps", totalOps);
    o.addProperty("clientBytesSent", bytesSent);
    o.addProperty("clientBytesReceived", bytesReceived);
    o.add("checks", checksJson());
    JsonObject ops = new JsonObject();
    for (Workload.Op op : Workload.Op.values()) {
      Histogram h = hist[op.ordinal()];
      if (h.getTotalCount() == 0) continue;
      JsonObject x = new JsonObject();
      x.addProperty("count", h.getTotalCount());
      x.addProperty("ok", ok[op.ordinal()]);
      x.addProperty("opsPerSec", round(opThroughput(op)));
      x.addProperty("p50ms", round(pct(op, 50)));
      x.addProperty("p99ms", round(pct(op, 99)));
      x.addProperty("p999ms", round(pct(op, 99.9)));
      x.addProperty("maxms", round(h.getMaxValue() / 1000.0));
      ops.add(op.name(), x);
    }
    o.add("ops", ops);
    return o;
  }

  JsonObject checksJson() {
    JsonObject c = new JsonObject();
    c.addProperty("payloads", checks.payloads);
    c.addProperty("payloadRegressions", checks.payloadRegressions);
    c.addProperty("ownReads", checks.ownReads);
    c.addProperty("staleOwnReads", checks.staleOwnReads);
    c.addProperty("lostOwnWrites", checks.lostOwnWrites);
    c.addProperty("undecodable", checks.undecodable);
    c.addProperty("violations", checks.violations());
    return c;
  }

  /** Latency CDF points (percentile, ms) for charts. */
  JsonArray cdf() {
    Histogram all = merged();
    JsonArray a = new JsonArray();
    if (all.getTotalCount() == 0) return a;
    double[] ps = {0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99};
    for (double p : ps) {
      JsonArray pt = new JsonArray();
      pt.add(p);
      pt.add(all.getValueAtPercentile(p) / 1000.0);
      a.add(pt);
    }
    return a;
  }

  String oneLine() {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format("%-34s %9.0f ops/s", label, throughput()));
    for (Workload.Op op : Workload.Op.values()) {
      if (hist[op.ordinal()].getTotalCount() == 0) continue;
      sb.append(String.format("  %s p50=%.2f p99=%.2f p99.9=%.2f ms", op, pct(op, 50), pct(op, 99), pct(op, 99.9)));
    }
    if (checks.violations() > 0) sb.append(String.format("  [CAUSAL CHECK VIOLATIONS: %d]", checks.violations()));
    if (outOfDate + otherErrors + ioErrors > 0) sb.append(String.format("  [400:%d err:%d io:%d]", outOfDate, otherErrors, ioErrors));
    return sb.toString();
  }

  static double round(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) return -1;
    return Math.round(v * 1000.0) / 1000.0;
  }
}
