package dev.causalkv.storage.rocksdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.causalkv.core.Batch;
import dev.causalkv.core.Dot;
import dev.causalkv.core.NodeMeta;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.core.ViewState;
import dev.causalkv.storage.InMemoryStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The RocksDB engine on its own: atomic batches, indexes, snapshots, recovery, refusal of bad directories. */
public class RocksDbStoreTest {

  @TempDir Path tmp;

  static final String A = "a:1#x";
  static final String B = "b:1#y";

  static Version ver(String key, String value, String origin, long seq, Map<String, Long> deps) {
    VectorClock vc = VectorClock.of(deps).with(origin, seq);
    return new Version(key, value, new Dot(origin, seq), vc, 1000 + seq);
  }

  static NodeMeta meta(long ownSeq, VectorClock applied) {
    return new NodeMeta(A, ownSeq, VectorClock.EMPTY, applied, ViewState.initial(List.of("a:1", "b:1")));
  }

  static Batch put(Store s, Version v, NodeMeta m) {
    Siblings before = s.get(v.key());
    return new Batch(List.of(new Batch.KeyChange(v.key(), before, before.merge(v))), m);
  }

  /** Every version of the delta, in dot order; closes it. */
  public static List<Version> drain(Store.Delta d) {
    List<Version> out = new ArrayList<>();
    try (d) {
      while (d.hasNext()) out.add(d.next());
    }
    out.sort((x, y) -> x.dot().compareTo(y.dot()));
    return out;
  }

  static RocksDbStore open(Path dir) {
    return RocksDbStore.open(dir, RocksDbStore.SyncMode.BATCH, 8 << 20);
  }

  @Test
  void emptyDirectoryHasNoMetaAndBatchesSurviveReopen() {
    Path dir = tmp.resolve("db");
    Version k1 = ver("k1", "v1", A, 1, Map.of());
    Version k2 = ver("k2", null, B, 1, Map.of());
    NodeMeta m = meta(1, VectorClock.of(Map.of(A, 1L, B, 1L)));
    try (RocksDbStore s = open(dir)) {
      assertNull(s.loadMeta(), "a fresh directory has no metadata");
      assertEquals(Siblings.EMPTY, s.get("k1"));
      Batch b = new Batch(List.of(
          new Batch.KeyChange("k1", Siblings.EMPTY, Siblings.of(List.of(k1))),
          new Batch.KeyChange("k2", Siblings.EMPTY, Siblings.of(List.of(k2)))), m);
      s.commit(b).join();
    }
    try (RocksDbStore s = open(dir)) {
      assertEquals(m, s.loadMeta());
      assertEquals(Siblings.of(List.of(k1)), s.get("k1"));
      assertEquals(Siblings.of(List.of(k2)), s.get("k2"));
      assertEquals(2, s.keyCount());
      assertEquals(List.of(k1, k2), drain(s.delta(VectorClock.EMPTY)));
      assertTrue(s.hasVersionsAfter(VectorClock.of(Map.of(A, 1L))));
      assertFalse(s.hasVersionsAfter(VectorClock.of(Map.of(A, 1L, B, 1L))));
      assertEquals(List.of(new Store.DotKey(new Dot(B, 1), "k2")), s.tombstones(VectorClock.of(Map.of(B, 5L)), null, 10));
    }
  }

  @Test
  void supersededVersionsLeaveTheIndexAndMaxSeqIsRecomputed() {
    try (RocksDbStore s = open(tmp.resolve("db"))) {
      Version a1 = ver("k", "1", A, 1, Map.of());
      s.commit(put(s, a1, meta(1, VectorClock.of(Map.of(A, 1L)))));
      Version a2 = ver("k", "2", A, 2, Map.of(A, 1L));
      s.commit(put(s, a2, meta(2, VectorClock.of(Map.of(A, 2L)))));
      assertEquals(List.of(a2), drain(s.delta(VectorClock.EMPTY)));
      assertEquals(1, s.keyCount());
      // A write of another origin supersedes a2: origin A has no live version any more.
      Version b1 = ver("k", null, B, 1, Map.of(A, 2L));
      s.commit(put(s, b1, meta(2, VectorClock.of(Map.of(A, 2L, B, 1L))))).join();
      assertEquals(List.of(b1), drain(s.delta(VectorClock.EMPTY)));
      assertFalse(s.hasVersionsAfter(VectorClock.of(Map.of(B, 1L))), "no live version of A remains");
      // Dropping the key (garbage collection) removes it from both indexes.
      s.commit(new Batch(List.of(new Batch.KeyChange("k", s.get("k"), Siblings.EMPTY)), meta(2, VectorClock.of(Map.of(A, 2L, B, 1L))))).join();
      assertFalse(s.hasVersionsAfter(VectorClock.EMPTY));
      assertEquals(List.of(), s.tombstones(VectorClock.of(Map.of(B, 9L)), null, 10));
      assertEquals(0, s.keyCount());
    }
  }

  @Test
  void deltaAndScanReadTheSnapshotTakenAtCallTime() {
    try (RocksDbStore s = open(tmp.resolve("db"))) {
      Version x1 = ver("x", "old", A, 1, Map.of());
      s.commit(put(s, x1, meta(1, VectorClock.of(Map.of(A, 1L))))).join();
      Store.Delta d = s.delta(VectorClock.EMPTY);
      Store.Scan sc = s.scan();
      // Changes after the call: x superseded, y added.
      s.commit(put(s, ver("x", "new", A, 2, Map.of(A, 1L)), meta(2, VectorClock.of(Map.of(A, 2L)))));
      s.commit(put(s, ver("y", "y", A, 3, Map.of(A, 2L)), meta(3, VectorClock.of(Map.of(A, 3L))))).join();
      assertEquals(List.of(x1), drain(d));
      List<Siblings> scanned = new ArrayList<>();
      try (sc) {
        while (sc.hasNext()) scanned.add(sc.next());
      }
      assertEquals(List.of(Siblings.of(List.of(x1))), scanned);
      assertEquals(2, drain(s.delta(VectorClock.EMPTY)).size(), "a new delta sees the new state");
    }
  }

  @Test
  void tombstoneIndexIsOrderedAndBoundedPerOrigin() {
    try (RocksDbStore s = open(tmp.resolve("db"))) {
      for (int i = 1; i <= 5; i++) {
        s.commit(put(s, ver("a" + i, null, A, i, Map.of()), meta(i, VectorClock.EMPTY)));
        s.commit(put(s, ver("b" + i, i % 2 == 0 ? "v" : null, B, i, Map.of()), meta(i, VectorClock.EMPTY)));
      }
      VectorClock upTo = VectorClock.of(Map.of(A, 3L, B, 5L));
      List<Store.DotKey> all = s.tombstones(upTo, null, 100);
      assertEquals(List.of("a1", "a2", "a3", "b1", "b3", "b5"), all.stream().map(Store.DotKey::key).toList());
      List<Store.DotKey> page = s.tombstones(upTo, new Dot(A, 3), 2);
      assertEquals(List.of("b1", "b3"), page.stream().map(Store.DotKey::key).toList());
      InMemoryStore m = InMemoryStore.create();
      for (int i = 1; i <= 5; i++) {
        m.commit(put(m, ver("a" + i, null, A, i, Map.of()), meta(i, VectorClock.EMPTY)));
        m.commit(put(m, ver("b" + i, i % 2 == 0 ? "v" : null, B, i, Map.of()), meta(i, VectorClock.EMPTY)));
      }
      assertEquals(all, m.tombstones(upTo, null, 100), "both engines agree on the order");
      assertEquals(page, m.tombstones(upTo, new Dot(A, 3), 2));
    }
  }

  @Test
  void groupCommitSharesFsyncsAndCompletesEveryFuture() throws Exception {
    try (RocksDbStore s = open(tmp.resolve("db"))) {
      ExecutorService pool = Executors.newFixedThreadPool(8);
      Object replicaLock = new Object();
      List<CompletableFuture<Void>> futures = java.util.Collections.synchronizedList(new ArrayList<>());
      long[] seq = {0};
      List<java.util.concurrent.Future<?>> jobs = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        jobs.add(pool.submit(() -> {
          for (int i = 0; i < 100; i++) {
            CompletableFuture<Void> f;
            synchronized (replicaLock) { // the replica commits under its lock
              long n = ++seq[0];
              f = s.commit(put(s, ver("k" + n, "v", A, n, Map.of()), meta(n, VectorClock.of(Map.of(A, n)))));
            }
            f.join(); // a writer waits for durability, as the HTTP edge does
            futures.add(f);
          }
        }));
      }
      for (var j : jobs) j.get(60, TimeUnit.SECONDS);
      pool.shutdown();
      assertEquals(800, futures.size());
      assertTrue(futures.stream().allMatch(f -> f.isDone() && !f.isCompletedExceptionally()));
      s.durable().get(5, TimeUnit.SECONDS);
      assertTrue(s.walSyncs() < 800, "concurrent writers shared fsyncs: " + s.walSyncs() + " for 800 commits");
      assertTrue(s.walSyncs() > 0);
    }
  }

  @Test
  void secondProcessOnTheSameDirectoryIsRefusedClearly() {
    Path dir = tmp.resolve("db");
    try (RocksDbStore s = open(dir)) {
      RocksDbStore.StorageException e = assertThrows(RocksDbStore.StorageException.class, () -> open(dir));
      assertTrue(e.getMessage().contains("in use by another process"), e.getMessage());
    }
  }

  @Test
  void corruptDirectoryIsRefusedNeverWiped() throws IOException {
    Path dir = tmp.resolve("db");
    try (RocksDbStore s = open(dir)) {
      s.commit(put(s, ver("k", "v", A, 1, Map.of()), meta(1, VectorClock.of(Map.of(A, 1L))))).join();
    }
    // Damage the manifest the CURRENT file points to.
    String manifest = Files.readString(dir.resolve("CURRENT")).trim();
    Files.write(dir.resolve(manifest), "this is not a manifest".getBytes());
    RocksDbStore.StorageException e = assertThrows(RocksDbStore.StorageException.class, () -> open(dir));
    assertTrue(e.getMessage().startsWith("data directory " + dir) || e.getMessage().startsWith("cannot open data directory"),
        e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line");
    assertTrue(Files.exists(dir.resolve(manifest)), "nothing was wiped");
  }

  @Test
  void nonEmptyDirectoryWithoutDatabaseIsRefused() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("db"));
    Files.writeString(dir.resolve("000012.sst"), "leftover");
    RocksDbStore.StorageException e = assertThrows(RocksDbStore.StorageException.class, () -> open(dir));
    assertTrue(e.getMessage().contains("no CURRENT file"), e.getMessage());
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(1, files.count(), "the directory was left as it was");
    }
  }

  @Test
  void closingWithAnOpenDeltaIsSafe() {
    RocksDbStore s = open(tmp.resolve("db"));
    s.commit(put(s, ver("k", "v", A, 1, Map.of()), meta(1, VectorClock.of(Map.of(A, 1L))))).join();
    Store.Delta d = s.delta(VectorClock.EMPTY);
    s.close();
    assertThrows(IllegalStateException.class, d::hasNext);
    d.close(); // no crash, no double free
  }

  @Test
  void codecRoundTripsSiblings() {
    Version v1 = ver("k", "héllo \u0000 wörld", A, 7, Map.of(B, 3L));
    Version v2 = ver("k", null, B, 4, Map.of(A, 2L));
    Siblings s = Siblings.of(List.of(v1, v2));
    assertEquals(2, s.versions().size());
    assertEquals(s, RecordCodec.decodeSiblings("k", RecordCodec.encodeSiblings(s)));
    byte[] bad = RecordCodec.encodeSiblings(s);
    assertThrows(RecordCodec.CorruptRecord.class, () -> RecordCodec.decodeSiblings("k", java.util.Arrays.copyOf(bad, bad.length - 3)));
  }
}
