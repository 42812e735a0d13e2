package dev.causalkv.driver;

import dev.causalkv.protocol.NodeCore;
import java.util.function.LongConsumer;

/**
 * Where the core's counters and observations go: every counter to the named counters of
 * {@code /admin/stats} (and {@code causalkv_events_total}), the few that deserve a series of their
 * own to it as well, and the waits of parked reads and held pulls
 * ({@code wait.<kind>.<outcome>_millis}) to {@code causalkv_waits_total} and the histogram
 * {@code causalkv_wait_duration_seconds}, by kind and outcome.
 */
public final class CoreMetrics implements NodeCore.Counter {

  private static final String WAIT = "wait.";
  private static final String MILLIS = "_millis";

  private final Metrics metrics;
  private final Metrics.Counter waits;
  private final Metrics.Histogram waitSeconds;
  private final Metrics.Counter tombstonesCollected;
  private final LongConsumer onKeysCollected;

  /** {@code onKeysCollected}: told of each garbage-collection step that dropped tombstoned keys (for the GC summary line). */
  public CoreMetrics(Metrics metrics, LongConsumer onKeysCollected) {
    this.metrics = metrics;
    this.onKeysCollected = onKeysCollected;
    this.waits = metrics.counter("causalkv_waits_total",
        "Requests that had to wait (parked reads, held pulls), by kind and by how the wait ended (ready, timeout)",
        "kind", "outcome");
    this.waitSeconds = metrics.histogram("causalkv_wait_duration_seconds",
        "How long parked requests waited, by kind and outcome", Metrics.LATENCY_SECONDS, "kind", "outcome");
    this.tombstonesCollected = metrics.counter("causalkv_tombstones_collected_total",
        "Tombstoned keys dropped by tombstone collection once every member had applied them");
    // series that exist from the start read as 0 rather than missing (rate() and alerts want them)
    for (String kind : new String[] {"read", "pull"}) {
      for (String outcome : new String[] {"ready", "timeout"}) waits.add(0, kind, outcome);
    }
  }

  @Override
  public void add(String name, long delta) {
    metrics.add(name, delta);
    if (name.equals("gc.keys_dropped")) {
      tombstonesCollected.add(delta);
      onKeysCollected.accept(delta);
    }
  }

  @Override
  public void observe(String name, double value) {
    if (!name.startsWith(WAIT) || !name.endsWith(MILLIS)) return;
    String rest = name.substring(WAIT.length(), name.length() - MILLIS.length());
    int dot = rest.indexOf('.');
    if (dot <= 0) return;
    String kind = rest.substring(0, dot);
    String outcome = rest.substring(dot + 1);
    waits.inc(kind, outcome);
    waitSeconds.observe(Math.max(0, value) / 1000.0, kind, outcome);
  }
}
