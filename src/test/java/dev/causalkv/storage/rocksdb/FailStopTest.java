package dev.causalkv.storage.rocksdb;

import static dev.causalkv.storage.rocksdb.RocksDbStoreTest.meta;
import static dev.causalkv.storage.rocksdb.RocksDbStoreTest.put;
import static dev.causalkv.storage.rocksdb.RocksDbStoreTest.ver;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.causalkv.core.NodeMeta;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.StorageFailedException;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.storage.rocksdb.RocksDbStore.SyncMode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The fail-stop rule of the RocksDB engine, with the write or the fsync of the write-ahead log
 * made to fail or to stall through {@link WalSteps}: after any failure no commit is taken and
 * nothing is reported durable, and no commit is reported durable before its fsync.
 */
class FailStopTest {

  static final String A = RocksDbStoreTest.A;

  @TempDir Path tmp;

  /** The real steps, with switches that make the next write or fsync fail, or stall until released. */
  static final class FaultyWal implements WalSteps {
    volatile boolean failWrite;
    volatile boolean failSync;
    /** When set, a write is applied and then waits for {@link #releaseWrite} before it returns. */
    volatile boolean stallWrite;
    /** When set, an fsync waits for {@link #releaseSync} (then fails if {@link #failSync}). */
    volatile boolean stallSync;
    final CountDownLatch writeStalled = new CountDownLatch(1);
    final CountDownLatch releaseWrite = new CountDownLatch(1);
    final CountDownLatch syncStalled = new CountDownLatch(1);
    final CountDownLatch releaseSync = new CountDownLatch(1);

    @Override
    public void write(RocksDB db, WriteOptions options, WriteBatch batch) throws RocksDBException {
      if (failWrite) throw new RocksDBException("injected write failure");
      db.write(options, batch);
      if (stallWrite) {
        writeStalled.countDown();
        await(releaseWrite);
      }
    }

    @Override
    public void sync(RocksDB db) throws RocksDBException {
      if (stallSync) {
        syncStalled.countDown();
        await(releaseSync);
      }
      if (failSync) throw new RocksDBException("injected fsync failure");
      db.syncWal();
    }

    private static void await(CountDownLatch l) {
      try {
        if (!l.await(10, TimeUnit.SECONDS)) throw new IllegalStateException("test latch never released");
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  RocksDbStore open(SyncMode mode, FaultyWal wal) {
    return RocksDbStore.open(tmp.resolve("db"), mode, 8 << 20, wal);
  }

  /** The commit of own write {@code seq} of origin A to {@code key}. */
  static CompletableFuture<Void> write(RocksDbStore s, String key, long seq) {
    Version v = ver(key, "v" + seq, A, seq, Map.of());
    return s.commit(put(s, v, meta(seq, VectorClock.of(Map.of(A, seq)))));
  }

  /** Asserts that {@code f} completes, within seconds, exceptionally with StorageFailedException. */
  static void assertFailsStorage(CompletableFuture<Void> f) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
    assertInstanceOf(StorageFailedException.class, e.getCause());
  }

  static void assertDurable(CompletableFuture<Void> f) throws Exception {
    f.get(10, TimeUnit.SECONDS);
    assertFalse(f.isCompletedExceptionally());
  }

  @ParameterizedTest
  @EnumSource(value = SyncMode.class, names = {"ALWAYS", "BATCH"})
  void aFailedFsyncFailsTheStoreForGood(SyncMode mode) throws Exception {
    FaultyWal wal = new FaultyWal();
    try (RocksDbStore s = open(mode, wal)) {
      assertDurable(write(s, "k1", 1));
      wal.failSync = true;
      CompletableFuture<Void> second = write(s, "k2", 2);
      assertFailsStorage(second);
      assertTrue(s.failed());
      // The batch was written before its fsync failed: it is visible, but never reported durable.
      assertEquals("v2", s.get("k2").versions().get(0).value());
      assertFailsStorage(s.durable());
      long syncs = s.walSyncs();
      // Even once the disk answers again, the store takes nothing: the replica would otherwise
      // hand out seq 2 again, or seq 3 above a seq 2 that a restart may not recover.
      wal.failSync = false;
      assertThrows(StorageFailedException.class, () -> write(s, "k2", 2));
      assertThrows(StorageFailedException.class, () -> write(s, "k3", 3));
      assertFailsStorage(s.durable());
      assertEquals(syncs, s.walSyncs(), "no fsync after the failure");
      assertEquals(Siblings.EMPTY, s.get("k3"), "the refused commit changed nothing");
    }
  }

  @Test
  void durableFuturesWaitingWhenTheFsyncFailsFailToo() throws Exception {
    FaultyWal wal = new FaultyWal();
    try (RocksDbStore s = open(SyncMode.BATCH, wal)) {
      assertDurable(write(s, "k1", 1));
      wal.stallSync = true;
      wal.failSync = true;
      CompletableFuture<Void> commit = write(s, "k2", 2);
      assertTrue(wal.syncStalled.await(10, TimeUnit.SECONDS));
      CompletableFuture<Void> waiting = s.durable(); // a reader that saw k2 waits for its fsync
      CompletableFuture<Void> third = write(s, "k3", 3); // written during the fsync: waits for the next
      assertFalse(waiting.isDone());
      wal.releaseSync.countDown();
      assertFailsStorage(commit);
      assertFailsStorage(waiting);
      assertFailsStorage(third);
      assertThrows(StorageFailedException.class, () -> write(s, "k4", 4));
    }
  }

  @ParameterizedTest
  @EnumSource(SyncMode.class)
  void aFailedWriteFailsTheStoreAndAppliesNothing(SyncMode mode) throws Exception {
    FaultyWal wal = new FaultyWal();
    try (RocksDbStore s = open(mode, wal)) {
      assertDurable(write(s, "k1", 1));
      NodeMeta before = s.loadMeta();
      wal.failWrite = true;
      StorageFailedException e = assertThrows(StorageFailedException.class, () -> write(s, "k2", 2));
      assertTrue(e.getMessage().startsWith("write to "), e.getMessage());
      assertEquals(Siblings.EMPTY, s.get("k2"));
      assertEquals(before, s.loadMeta());
      assertTrue(s.failed());
      assertFailsStorage(s.durable());
      wal.failWrite = false;
      assertThrows(StorageFailedException.class, () -> write(s, "k2", 2));
      assertEquals(Siblings.EMPTY, s.get("k2"));
    }
    // What was durable before the failure is still there after a restart on a healthy disk.
    try (RocksDbStore s = open(mode, new FaultyWal())) {
      assertEquals("v1", s.get("k1").versions().get(0).value());
      assertFalse(s.failed());
      assertDurable(write(s, "k2", 2));
    }
  }

  /**
   * A reader that sees a commit still between its write and its fsync (another thread's, under the
   * replica's lock) must not be told it is durable: it would hand out a dot that the failing fsync
   * then loses. Before the fix ALWAYS answered at once, and BATCH did between write and hand-off.
   */
  @ParameterizedTest
  @EnumSource(value = SyncMode.class, names = {"ALWAYS", "BATCH"})
  void durableWaitsForACommitBetweenWriteAndFsync(SyncMode mode) throws Exception {
    for (boolean fsyncFails : new boolean[] {false, true}) {
      FaultyWal wal = new FaultyWal();
      try (RocksDbStore s = RocksDbStore.open(tmp.resolve("db-" + fsyncFails), mode, 8 << 20, wal)) {
        assertDurable(write(s, "k1", 1));
        wal.stallWrite = true;
        wal.failSync = fsyncFails;
        AtomicReference<CompletableFuture<Void>> commit = new AtomicReference<>();
        Thread writer = new Thread(() -> commit.set(write(s, "k2", 2)));
        writer.start();
        assertTrue(wal.writeStalled.await(10, TimeUnit.SECONDS));
        assertEquals("v2", s.get("k2").versions().get(0).value(), "the write is visible before commit returns");
        CompletableFuture<Void> reader = s.durable();
        Thread.sleep(50); // room for a wrong early completion
        assertFalse(reader.isDone(), "durable() completed while a visible write was not yet fsynced");
        wal.releaseWrite.countDown();
        writer.join(10_000);
        if (fsyncFails) {
          assertFailsStorage(reader);
          assertFailsStorage(commit.get());
        } else {
          assertDurable(reader);
          assertDurable(commit.get());
        }
      }
    }
  }

  @ParameterizedTest
  @EnumSource(SyncMode.class)
  void aHealthyStoreIsUnaffected(SyncMode mode) throws Exception {
    FaultyWal wal = new FaultyWal();
    try (RocksDbStore s = open(mode, wal)) {
      List<CompletableFuture<Void>> futures = new ArrayList<>();
      for (int i = 1; i <= 200; i++) {
        futures.add(write(s, "k" + i, i));
        if (i % 10 == 0) futures.add(s.durable());
      }
      for (CompletableFuture<Void> f : futures) assertDurable(f);
      assertDurable(s.durable());
      assertFalse(s.failed());
      if (mode == SyncMode.ALWAYS) assertEquals(200, s.walSyncs(), "one fsync per commit");
      if (mode == SyncMode.BATCH) assertTrue(s.walSyncs() > 0 && s.walSyncs() <= 200, "fsyncs: " + s.walSyncs());
      if (mode == SyncMode.NEVER) assertEquals(0, s.walSyncs());
    }
    try (RocksDbStore s = open(mode, new FaultyWal())) {
      assertEquals(200, s.keyCount());
      assertEquals(200, s.loadMeta().ownSeq());
    }
  }
}
