package dev.causalkv.node;

import dev.causalkv.driver.MeteredStore;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The node's periodic garbage-collection summary line: tombstoned keys dropped since the last
 * line and still pending, and the JVM's collections, their time and the heap in use. At INFO when
 * something happened worth a look (tombstones dropped, or collections took more than 5% of the
 * period), else at FINE.
 */
final class GcSummary {

  private static final Logger LOG = Logger.getLogger(GcSummary.class.getName());

  private final MeteredStore store;
  private final AtomicLong dropped = new AtomicLong();
  private long lastCount;
  private long lastMillis;
  private long lastAt = System.nanoTime();

  GcSummary(MeteredStore store) {
    this.store = store;
    long[] gc = jvmGc();
    lastCount = gc[0];
    lastMillis = gc[1];
  }

  void dropped(long keys) {
    dropped.addAndGet(keys);
  }

  void log() {
    long now = System.nanoTime();
    long periodMillis = Math.max(1, (now - lastAt) / 1_000_000);
    lastAt = now;
    long[] gc = jvmGc();
    long collections = gc[0] - lastCount;
    long gcMillis = gc[1] - lastMillis;
    lastCount = gc[0];
    lastMillis = gc[1];
    long droppedKeys = dropped.getAndSet(0);
    long pending = store.tombstonedKeys();
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    boolean notable = droppedKeys > 0 || gcMillis * 20 > periodMillis;
    LOG.log(notable ? Level.INFO : Level.FINE, () -> String.format(
        "gc: %d tombstoned keys collected in the last %d s, %s pending; jvm: %d collections, %d ms, heap %d/%d MB",
        droppedKeys, periodMillis / 1000, pending < 0 ? "(counting)" : String.valueOf(pending), collections, gcMillis,
        heap.getUsed() >> 20, heap.getMax() >> 20));
  }

  /** Collections so far and their total time (ms), over every collector. */
  private static long[] jvmGc() {
    long count = 0;
    long millis = 0;
    for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) {
      count += Math.max(0, b.getCollectionCount());
      millis += Math.max(0, b.getCollectionTime());
    }
    return new long[] {count, millis};
  }
}
