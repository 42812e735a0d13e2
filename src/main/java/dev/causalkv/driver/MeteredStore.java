package dev.causalkv.driver;

import dev.causalkv.core.Batch;
import dev.causalkv.core.Dot;
import dev.causalkv.core.NodeMeta;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A {@link Store} that passes every call to an engine and keeps the figures an operator asks
 * about: keys by number of siblings, tombstoned keys waiting for collection, fsync latency and
 * group-commit sizes; and that logs storage failures (rate-limited), which would otherwise only
 * reach clients as 500 answers.
 *
 * <p>The key figures are kept exact without scanning at each scrape: every commit carries each
 * touched key's siblings before and after, so the counts move by the difference. They start from
 * one scan of a snapshot taken under the same lock as commits ({@link #countExisting}); until it
 * ends they are not reported.
 */
public final class MeteredStore implements Store {

  private static final Logger LOG = Logger.getLogger(MeteredStore.class.getName());
  private static final long ERROR_LOG_EVERY_MILLIS = 10_000;
  /** Sibling counts are reported as 1, 2, 3 and "4+". */
  private static final int MAX_BUCKET = 4;

  private final Store engine;
  /** [0]: tombstoned keys; [n] for n in 1..4: keys with n siblings (4: four or more). Guarded by this. */
  private final long[] counts = new long[MAX_BUCKET + 1];
  private volatile boolean counted;
  private final Metrics.Histogram fsyncSeconds;
  private final Metrics.Histogram groupCommit;
  private final AtomicLong lastErrorLogMillis = new AtomicLong();
  private final AtomicLong suppressedErrors = new AtomicLong();

  public MeteredStore(Store engine, Metrics metrics) {
    this.engine = engine;
    this.fsyncSeconds = metrics.histogram("causalkv_fsync_duration_seconds",
        "Time of each fsync of the storage engine's write-ahead log",
        new double[] {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1});
    this.groupCommit = metrics.histogram("causalkv_group_commit_size",
        "Commits made durable by one fsync (group commit)", new double[] {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024});
    metrics.gauge("causalkv_tombstones_pending",
        "Keys whose every sibling is a tombstone: deleted, waiting for tombstone collection",
        () -> counted ? tombstonedKeys() : Double.NaN);
    metrics.gauges("causalkv_keys_by_siblings",
        "Keys held, by number of siblings (concurrent versions; 4+ counts four or more)", "siblings", () -> {
          if (!counted) return Map.of();
          return siblingsHistogram();
        });
  }

  /** Counts the keys already stored, from one snapshot; run once, off the request path (it reads everything). */
  public void countExisting() {
    long[] base = new long[counts.length];
    Scan scan;
    synchronized (this) {
      scan = engine.scan(); // commits are counted from here on, the snapshot up to here
    }
    try (scan) {
      while (scan.hasNext()) add(base, scan.next(), 1);
    } catch (RuntimeException e) {
      storageError("counting keys failed", e);
      return;
    }
    synchronized (this) {
      for (int i = 0; i < counts.length; i++) counts[i] += base[i];
    }
    counted = true;
  }

  /** Hook for the engine's fsyncs ({@code storage.SyncListener}). */
  public void synced(long nanos, long commits) {
    fsyncSeconds.observeNanos(nanos);
    groupCommit.observe(commits);
  }

  /** Keys whose siblings are all tombstones; -1 until the first count is done. */
  public synchronized long tombstonedKeys() {
    return counted ? counts[0] : -1;
  }

  /** Keys by sibling count ("1", "2", "3", "4+"); empty until the first count is done. */
  public synchronized Map<String, Long> siblingsHistogram() {
    Map<String, Long> out = new LinkedHashMap<>();
    if (!counted) return out;
    for (int i = 1; i <= MAX_BUCKET; i++) out.put(i == MAX_BUCKET ? MAX_BUCKET + "+" : String.valueOf(i), counts[i]);
    return out;
  }

  private static void add(long[] c, Siblings s, int sign) {
    if (s.isEmpty()) return;
    c[Math.min(MAX_BUCKET, s.versions().size())] += sign;
    boolean allTombstones = true;
    for (Version v : s.versions()) allTombstones &= v.isTombstone();
    if (allTombstones) c[0] += sign;
  }

  // ---------------------------------------------------------------- the Store port, passed through

  @Override
  public CompletableFuture<Void> commit(Batch batch) {
    CompletableFuture<Void> f;
    synchronized (this) {
      try {
        f = engine.commit(batch);
      } catch (RuntimeException e) {
        storageError("commit failed", e);
        throw e;
      }
      for (Batch.KeyChange c : batch.changes()) {
        add(counts, c.before(), -1);
        add(counts, c.after(), 1);
      }
    }
    if (!f.isDone() || f.isCompletedExceptionally()) {
      f.whenComplete((ok, err) -> {
        if (err != null) storageError("commit could not be made durable", err);
      });
    }
    return f;
  }

  @Override
  public NodeMeta loadMeta() {
    return engine.loadMeta();
  }

  @Override
  public Siblings get(String key) {
    try {
      return engine.get(key);
    } catch (RuntimeException e) {
      storageError("read failed", e);
      throw e;
    }
  }

  @Override
  public CompletableFuture<Void> durable() {
    return engine.durable();
  }

  @Override
  public boolean hasVersionsAfter(VectorClock since) {
    return engine.hasVersionsAfter(since);
  }

  @Override
  public Delta delta(VectorClock since) {
    return engine.delta(since);
  }

  @Override
  public Scan scan() {
    return engine.scan();
  }

  @Override
  public List<DotKey> tombstones(VectorClock upTo, Dot after, int limit) {
    return engine.tombstones(upTo, after, limit);
  }

  @Override
  public long keyCount() {
    return engine.keyCount();
  }

  @Override
  public void close() {
    engine.close();
  }

  /** Logs a storage failure: the first at once, then at most one line per interval with a count of the rest. */
  private void storageError(String what, Throwable e) {
    long now = System.currentTimeMillis();
    long last = lastErrorLogMillis.get();
    if (now - last < ERROR_LOG_EVERY_MILLIS || !lastErrorLogMillis.compareAndSet(last, now)) {
      suppressedErrors.incrementAndGet();
      return;
    }
    long more = suppressedErrors.getAndSet(0);
    Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
    LOG.log(Level.SEVERE, "storage: " + what + ": " + cause.getMessage()
        + (more > 0 ? " (" + more + " more storage errors in the last " + ERROR_LOG_EVERY_MILLIS / 1000 + " s)" : ""));
  }
}
