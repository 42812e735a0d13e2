package dev.causalkv.driver;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.IOException;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;

/**
 * The node's metrics: named counters for {@code GET /admin/stats}, and Prometheus series
 * (counters, histograms, gauges read from suppliers) for {@code GET /metrics}.
 *
 * <p>This facade is the only place that knows the Prometheus client library. Each node has its
 * own registry (tests run several nodes in one JVM); the JVM's own metrics are process-wide, so
 * they live in one shared registry, registered once, and every scrape appends them. The named
 * counters of {@link #add} are exported too, as {@code causalkv_events_total{event="<name>"}}.
 */
public final class Metrics {

  /** Latency buckets in seconds, 0.5 ms to 30 s. */
  public static final double[] LATENCY_SECONDS =
      {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  /** Buckets for counts of things (versions, commits), powers of four. */
  public static final double[] COUNTS = {0, 1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576};

  private static final PrometheusRegistry JVM = jvmRegistry();
  private static final PrometheusTextFormatWriter TEXT = PrometheusTextFormatWriter.create();

  private final Map<String, LongAdder> counters = new ConcurrentHashMap<>();
  private final PrometheusRegistry registry = new PrometheusRegistry();

  public Metrics() {
    CounterWithCallback.builder()
        .name("causalkv_events_total")
        .help("Named event counters of the node (the counters of GET /admin/stats)")
        .labelNames("event")
        .callback(cb -> counters.forEach((name, n) -> cb.call(n.sum(), name)))
        .register(registry);
  }

  // ---------------------------------------------------------------- named counters (/admin/stats)

  public void add(String name, long delta) {
    counters.computeIfAbsent(name, n -> new LongAdder()).add(delta);
  }

  public void inc(String name) {
    add(name, 1);
  }

  public long get(String name) {
    LongAdder a = counters.get(name);
    return a == null ? 0 : a.sum();
  }

  public Map<String, Long> snapshot() {
    Map<String, Long> out = new TreeMap<>();
    counters.forEach((k, v) -> out.put(k, v.sum()));
    return new LinkedHashMap<>(out);
  }

  // ---------------------------------------------------------------- Prometheus series

  /** A counter series; {@code name} ends in {@code _total}, by Prometheus convention. */
  public Counter counter(String name, String help, String... labelNames) {
    io.prometheus.metrics.core.metrics.Counter c = io.prometheus.metrics.core.metrics.Counter.builder()
        .name(name).help(help).labelNames(labelNames).withoutExemplars().register(registry);
    return new Counter(c, labelNames.length);
  }

  /** A histogram series with the given bucket upper bounds; the name carries the unit ({@code _seconds}). */
  public Histogram histogram(String name, String help, double[] upperBounds, String... labelNames) {
    io.prometheus.metrics.core.metrics.Histogram h = io.prometheus.metrics.core.metrics.Histogram.builder()
        .name(name).help(help).labelNames(labelNames).classicOnly().classicUpperBounds(upperBounds)
        .withoutExemplars().register(registry);
    return new Histogram(h, labelNames.length);
  }

  /** A gauge read at every scrape; a NaN value leaves the series out. */
  public void gauge(String name, String help, DoubleSupplier value) {
    GaugeWithCallback.builder().name(name).help(help).callback(cb -> {
      double v = value.getAsDouble();
      if (!Double.isNaN(v)) cb.call(v);
    }).register(registry);
  }

  /**
   * A gauge family with one label, read at every scrape: one series per entry of the map the
   * supplier returns (label value to value); NaN values are left out.
   */
  public void gauges(String name, String help, String labelName, Supplier<Map<String, ? extends Number>> values) {
    GaugeWithCallback.builder().name(name).help(help).labelNames(labelName).callback(cb -> {
      for (Map.Entry<String, ? extends Number> e : values.get().entrySet()) {
        double v = e.getValue().doubleValue();
        if (!Double.isNaN(v)) cb.call(v, e.getKey());
      }
    }).register(registry);
  }

  /** The content type of {@link #writeText}: the Prometheus text format, version 0.0.4. */
  public static String textContentType() {
    return PrometheusTextFormatWriter.CONTENT_TYPE;
  }

  /** Writes every series of this node, then the JVM's, in the Prometheus text format. */
  public void writeText(OutputStream out) throws IOException {
    MetricSnapshots.Builder all = MetricSnapshots.builder();
    for (MetricSnapshot s : registry.scrape()) all.metricSnapshot(s);
    for (MetricSnapshot s : JVM.scrape()) all.metricSnapshot(s);
    TEXT.write(out, all.build());
  }

  private static PrometheusRegistry jvmRegistry() {
    PrometheusRegistry r = new PrometheusRegistry();
    JvmMetrics.builder().register(r);
    return r;
  }

  /** A counter with fixed label names; children are cached per label values. */
  public static final class Counter {
    private final io.prometheus.metrics.core.metrics.Counter counter;
    private final int labels;
    private final Map<String, CounterDataPoint> children = new ConcurrentHashMap<>();

    private Counter(io.prometheus.metrics.core.metrics.Counter counter, int labels) {
      this.counter = counter;
      this.labels = labels;
    }

    public void inc(String... labelValues) {
      add(1, labelValues);
    }

    public void add(double delta, String... labelValues) {
      child(labelValues).inc(delta);
    }

    public double get(String... labelValues) {
      return child(labelValues).get();
    }

    private CounterDataPoint child(String[] values) {
      if (labels == 0) return counter;
      return children.computeIfAbsent(String.join("\u0000", values), k -> counter.labelValues(values));
    }
  }

  /** A running measurement of a {@link Histogram}: {@link #close} observes it. */
  @FunctionalInterface
  public interface Timer extends AutoCloseable {
    @Override
    void close();
  }

  /** A histogram with fixed label names; children are cached per label values. */
  public static final class Histogram {
    private final io.prometheus.metrics.core.metrics.Histogram histogram;
    private final int labels;
    private final Map<String, DistributionDataPoint> children = new ConcurrentHashMap<>();

    private Histogram(io.prometheus.metrics.core.metrics.Histogram histogram, int labels) {
      this.histogram = histogram;
      this.labels = labels;
    }

    public void observe(double value, String... labelValues) {
      child(labelValues).observe(value);
    }

    /** Observes a duration measured with {@link System#nanoTime}, in seconds. */
    public void observeNanos(long nanos, String... labelValues) {
      observe(nanos / 1e9, labelValues);
    }

    /** Starts timing; closing the timer observes the seconds since (try-with-resources). */
    public Timer startTimer(String... labelValues) {
      long start = System.nanoTime();
      DistributionDataPoint child = child(labelValues);
      return () -> child.observe((System.nanoTime() - start) / 1e9);
    }

    /** How many observations the series with these label values has had. */
    public long count(String... labelValues) {
      return child(labelValues).getCount();
    }

    private DistributionDataPoint child(String[] values) {
      if (labels == 0) return histogram;
      return children.computeIfAbsent(String.join("\u0000", values), k -> histogram.labelValues(values));
    }
  }
}
