package dev.causalkv.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.causalkv.core.Batch;
import dev.causalkv.core.Dot;
import dev.causalkv.core.NodeMeta;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.StorageFailedException;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.core.ViewState;
import dev.causalkv.storage.InMemoryStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The simulated disk: written vs durable state, crash, fault knobs, and the port's contracts. */
class SimDiskTest {

  static final List<String> ORIGINS = List.of("a:1#1", "b:1#1", "c:1#1");

  /** Makes batches as replicas would: writes that replace, concurrent siblings, tombstones, GC drops. */
  static final class Writer {
    final SplittableRandom rnd;
    final Map<String, Long> seqs = new HashMap<>();
    VectorClock applied = VectorClock.EMPTY;
    long ts = 1_000;

    Writer(long seed) {
      rnd = new SplittableRandom(seed);
    }

    Batch next(Store s) {
      String key = "k" + rnd.nextInt(8);
      Siblings before = s.get(key);
      boolean collectable = !before.isEmpty() && !before.exists(); // only tombstones left
      if (!collectable || rnd.nextInt(3) != 0) {
        String origin = ORIGINS.get(rnd.nextInt(ORIGINS.size()));
        long seq = seqs.merge(origin, 1L, Long::sum);
        Dot dot = new Dot(origin, seq);
        // Mostly a write that saw the key's siblings; sometimes a concurrent one, kept beside them.
        VectorClock vc = (rnd.nextInt(4) == 0 ? VectorClock.EMPTY : before.vc()).with(dot);
        Version v = new Version(key, rnd.nextInt(4) == 0 ? null : "v" + seq, dot, vc, ts++);
        applied = applied.with(dot);
        return new Batch(List.of(new Batch.KeyChange(key, before, before.merge(v))), meta());
      }
      return new Batch(List.of(new Batch.KeyChange(key, before, Siblings.EMPTY)), meta()); // all tombstones: collected
    }

    NodeMeta meta() {
      return new NodeMeta(ORIGINS.get(0), seqs.getOrDefault(ORIGINS.get(0), 0L), VectorClock.EMPTY, applied,
          ViewState.initial(List.of("a:1", "b:1", "c:1")));
    }
  }

  /** Everything the port lets a caller observe. */
  static List<Object> observe(Store s) {
    List<Object> out = new ArrayList<>();
    out.add(s.loadMeta());
    out.add(s.keyCount());
    List<Siblings> keys = new ArrayList<>();
    try (Store.Scan sc = s.scan()) {
      while (sc.hasNext()) keys.add(sc.next());
    }
    out.add(keys);
    out.add(drain(s.delta(VectorClock.EMPTY)));
    out.add(drain(s.delta(VectorClock.of(Map.of(ORIGINS.get(0), 3L, ORIGINS.get(1), 1L)))));
    out.add(s.tombstones(VectorClock.of(Map.of(ORIGINS.get(0), 100L, ORIGINS.get(2), 4L)), null, 100));
    out.add(s.hasVersionsAfter(VectorClock.EMPTY));
    out.add(s.hasVersionsAfter(VectorClock.of(Map.of(ORIGINS.get(0), 5L, ORIGINS.get(1), 5L, ORIGINS.get(2), 5L))));
    for (int i = 0; i < 8; i++) out.add(s.get("k" + i));
    return out;
  }

  static List<Version> drain(Store.Delta d) {
    List<Version> out = new ArrayList<>();
    try (d) {
      while (d.hasNext()) out.add(d.next());
    }
    out.sort((x, y) -> x.dot().compareTo(y.dot()));
    return out;
  }

  static SimDisk reliable() {
    return SimDisk.create(new SplittableRandom(1), SimDisk.Faults.NONE);
  }

  static StorageFailedException failure(CompletableFuture<Void> f) {
    assertTrue(f.isCompletedExceptionally(), "failed");
    CompletionException e = assertThrows(CompletionException.class, f::join);
    return assertInstanceOf(StorageFailedException.class, e.getCause());
  }

  @Test
  void aCommitIsVisibleAtOnceAndDurableOnlyAfterSync() {
    SimDisk d = reliable();
    Writer w = new Writer(1);
    assertTrue(d.durable().isDone(), "nothing committed: durable at once");
    Batch b1 = w.next(d);
    CompletableFuture<Void> f1 = d.commit(b1);
    assertEquals(b1.changes().get(0).after(), d.get(b1.changes().get(0).key()), "visible to get at once");
    assertEquals(b1.meta(), d.loadMeta());
    CompletableFuture<Void> waiter = d.durable();
    CompletableFuture<Void> f2 = d.commit(w.next(d));
    assertFalse(f1.isDone() || waiter.isDone() || f2.isDone(), "nothing durable before the fsync");
    assertEquals(3, d.unsynced());
    List<String> order = new ArrayList<>();
    f1.thenRun(() -> order.add("f1"));
    waiter.thenRun(() -> order.add("waiter"));
    f2.thenRun(() -> order.add("f2"));
    assertTrue(d.sync());
    assertEquals(List.of("f1", "waiter", "f2"), order, "completed in commit order");
    assertEquals(0, d.unsynced());
    assertTrue(d.durable().isDone());
    assertEquals(1, d.syncs());
  }

  @Test
  void aCommitMadeByASyncCallbackWaitsForTheNextSync() {
    SimDisk d = reliable();
    Writer w = new Writer(2);
    List<CompletableFuture<Void>> later = new ArrayList<>();
    d.commit(w.next(d)).thenRun(() -> later.add(d.commit(w.next(d))));
    assertTrue(d.sync());
    assertEquals(1, later.size());
    assertFalse(later.get(0).isDone(), "committed during the fsync: not covered by it");
    assertTrue(d.sync());
    assertTrue(later.get(0).isDone());
  }

  @Test
  void aCrashKeepsExactlyTheSyncedBatches() {
    SimDisk d = reliable();
    InMemoryStore reference = InMemoryStore.create(); // what should survive: the synced batches only
    Writer w = new Writer(3);
    for (int i = 0; i < 30; i++) {
      Batch b = w.next(d);
      d.commit(b);
      reference.commit(b);
    }
    assertTrue(d.sync());
    List<CompletableFuture<Void>> lost = new ArrayList<>();
    for (int i = 0; i < 10; i++) lost.add(d.commit(w.next(d)));
    assertFalse(observe(d).equals(observe(reference)), "the unsynced batches changed the visible state");
    SimDisk after = d.crash();
    assertEquals(observe(reference), observe(after), "after the crash: exactly the durable state");
    assertTrue(lost.stream().noneMatch(CompletableFuture::isDone), "a crashed node answers nobody");
    assertThrows(IllegalStateException.class, () -> d.get("k1"), "the crashed disk is gone");
    assertThrows(IllegalStateException.class, d::sync);
    // The restarted disk is a disk like any other: its own writes and crashes.
    Batch b = w.next(after);
    after.commit(b);
    reference.commit(b);
    after.sync();
    after.commit(w.next(after));
    assertEquals(observe(reference), observe(after.crash()));
  }

  @Test
  void aCrashBeforeAnySyncIsAFreshStart() {
    SimDisk d = reliable();
    Writer w = new Writer(4);
    d.commit(w.next(d));
    SimDisk after = d.crash();
    assertNull(after.loadMeta());
    assertEquals(0, after.keyCount());
    assertFalse(after.hasVersionsAfter(VectorClock.EMPTY));
  }

  @Test
  void aFailedFsyncFailsTheDiskForGood() {
    SimDisk d = SimDisk.create(new SplittableRandom(5), new SimDisk.Faults(0, 1));
    Writer w = new Writer(5);
    InMemoryStore ref = InMemoryStore.create();
    List<CompletableFuture<Void>> futures = new ArrayList<>();
    List<List<Object>> states = new ArrayList<>(List.of(observe(ref))); // after 0, 1, ... batches
    for (int i = 0; i < 5; i++) {
      Batch b = w.next(d);
      futures.add(d.commit(b));
      ref.commit(b);
      states.add(observe(ref));
    }
    CompletableFuture<Void> waiter = d.durable();
    assertFalse(d.sync(), "the fsync fault fires");
    assertTrue(d.failed());
    for (CompletableFuture<Void> f : futures) failure(f);
    failure(waiter);
    failure(d.durable());
    assertThrows(StorageFailedException.class, () -> d.commit(w.next(d)), "no commit after the failure");
    assertEquals(states.get(5), observe(d), "the refused commit changed nothing; written batches stay visible");
    assertFalse(d.sync(), "still failed");
    // Some prefix of the failed fsync may have reached the disk, never more, never out of order.
    List<Object> recovered = observe(d.crash());
    assertTrue(states.contains(recovered), "recovered state is a prefix of the batches: " + recovered);
  }

  @Test
  void aFailedWriteAppliesNothingAndFailsTheDisk() {
    SimDisk d = SimDisk.create(new SplittableRandom(6), new SimDisk.Faults(1, 0));
    Writer w = new Writer(6);
    Batch b = w.next(d);
    StorageFailedException e = assertThrows(StorageFailedException.class, () -> d.commit(b));
    assertTrue(e.getMessage().contains("write"), e.getMessage());
    assertNull(d.loadMeta());
    assertEquals(Siblings.EMPTY, d.get(b.changes().get(0).key()));
    assertTrue(d.failed());
    failure(d.durable());
    assertThrows(StorageFailedException.class, () -> d.commit(b));
  }

  @Test
  void aFailedWriteFailsWhatWaitsForAnFsync() {
    // Write failures one in two: find the first commit that fails, with earlier ones unsynced.
    SimDisk d = SimDisk.create(new SplittableRandom(7), new SimDisk.Faults(0.5, 0));
    Writer w = new Writer(7);
    List<CompletableFuture<Void>> waiting = new ArrayList<>();
    while (true) {
      try {
        waiting.add(d.commit(w.next(d)));
      } catch (StorageFailedException expected) {
        break;
      }
    }
    for (CompletableFuture<Void> f : waiting) failure(f);
    assertFalse(d.sync());
  }

  @Test
  void deltasAndScansAreSnapshotsOfTheirCall() {
    SimDisk d = reliable();
    Writer w = new Writer(8);
    for (int i = 0; i < 10; i++) d.commit(w.next(d));
    List<Object> before = observe(d);
    Store.Delta delta = d.delta(VectorClock.EMPTY);
    Store.Scan scan = d.scan();
    for (int i = 0; i < 10; i++) d.commit(w.next(d));
    d.sync();
    assertEquals(before.get(3), drain(delta));
    List<Siblings> scanned = new ArrayList<>();
    try (scan) {
      while (scan.hasNext()) scanned.add(scan.next());
    }
    assertEquals(before.get(2), scanned);
  }

  /** Random commits, syncs and crashes: the visible state is always the reference engine's. */
  @ParameterizedTest
  @ValueSource(longs = {11, 12, 13, 14})
  void behavesAsTheReferenceEngine(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    SimDisk d = SimDisk.create(new SplittableRandom(seed), SimDisk.Faults.NONE);
    InMemoryStore visible = InMemoryStore.create();
    List<Batch> unsynced = new ArrayList<>();
    List<Batch> synced = new ArrayList<>(); // since the last crash's state, which synced starts from
    Writer w = new Writer(seed);
    int crashes = 0;
    for (int step = 0; step < 400; step++) {
      int op = r.nextInt(20);
      if (op < 14) {
        Batch b = w.next(d);
        d.commit(b);
        visible.commit(b);
        unsynced.add(b);
      } else if (op < 19) {
        assertTrue(d.sync());
        synced.addAll(unsynced);
        unsynced.clear();
      } else {
        d = d.crash();
        crashes++;
        visible = InMemoryStore.create(); // the reference after the crash: every synced batch, replayed
        for (Batch b : synced) visible.commit(b);
        unsynced.clear();
      }
      assertEquals(observe(visible), observe(d), "step " + step);
    }
    assertTrue(crashes > 0 && !synced.isEmpty(), "the run crashed and synced");
  }

  @Test
  void theSameSeedGivesTheSameFaults() {
    List<String> runs = new ArrayList<>();
    for (int run = 0; run < 2; run++) {
      SimDisk d = SimDisk.create(new SplittableRandom(99), new SimDisk.Faults(0.02, 0.05));
      Writer w = new Writer(99);
      StringBuilder trace = new StringBuilder();
      for (int i = 0; i < 200 && !d.failed(); i++) {
        try {
          d.commit(w.next(d));
          trace.append('w');
        } catch (StorageFailedException e) {
          trace.append('W');
        }
        if (i % 3 == 0) trace.append(d.sync() ? 's' : 'S');
      }
      trace.append(observe(d.crash()));
      runs.add(trace.toString());
    }
    assertEquals(runs.get(0), runs.get(1));
    assertTrue(runs.get(0).contains("W") || runs.get(0).contains("S"), "a fault fired: " + runs.get(0));
  }
}
