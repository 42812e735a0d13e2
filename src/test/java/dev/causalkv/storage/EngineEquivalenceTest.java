package dev.causalkv.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.causalkv.core.Replica;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.storage.rocksdb.RocksDbStore;
import dev.causalkv.storage.rocksdb.RocksDbStoreTest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The RocksDB engine and the in-memory reference engine, each under three replicas, driven
 * through {@link Replica} by the same seeded sequence of writes, deletes, complete and partial
 * pulls, garbage collection and restarts, hold the same state after every step.
 */
class EngineEquivalenceTest {

  @TempDir Path tmp;

  static final int NODES = 3;
  static final int STEPS = 700;

  /** One node run on both engines side by side. */
  final class Twin {
    final String id;
    final InMemoryStore memStore = InMemoryStore.create();
    final Path dir;
    RocksDbStore rocksStore;
    Replica mem;
    Replica rocks;

    Twin(int i, List<String> view) {
      id = "n" + i + ":80";
      dir = tmp.resolve("node" + i);
      rocksStore = RocksDbStore.open(dir, RocksDbStore.SyncMode.NEVER, 4 << 20);
      mem = Replica.open(memStore, id, view, () -> "inc" + id, null);
      rocks = Replica.open(rocksStore, id, view, () -> "inc" + id, null);
    }

    /** A process restart: the engine state is kept, everything in the replica's memory is lost. */
    void restart(List<String> view) {
      rocksStore.close();
      rocksStore = RocksDbStore.open(dir, RocksDbStore.SyncMode.NEVER, 4 << 20);
      mem = Replica.open(memStore, id, view, () -> "unused", null);
      rocks = Replica.open(rocksStore, id, view, () -> "unused", null);
    }
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3})
  void sameOperationsSameState(long seed) {
    Random rnd = new Random(seed);
    List<String> view = new ArrayList<>();
    for (int i = 0; i < NODES; i++) view.add("n" + i + ":80");
    List<Twin> nodes = new ArrayList<>();
    for (int i = 0; i < NODES; i++) nodes.add(new Twin(i, view));
    List<VectorClock> payloads = new ArrayList<>(List.of(VectorClock.EMPTY));
    long now = 1_000;
    try {
      for (int step = 0; step < STEPS; step++) {
        Twin t = nodes.get(rnd.nextInt(NODES));
        int op = rnd.nextInt(100);
        String what;
        if (op < 45) {
          String key = "k" + rnd.nextInt(25);
          String value = rnd.nextInt(4) == 0 ? null : "v" + step;
          VectorClock p = payloads.get(rnd.nextInt(payloads.size()));
          if (!t.mem.isPlausible(p)) p = VectorClock.EMPTY;
          now += rnd.nextInt(3); // equal timestamps happen too
          Replica.Write a = t.mem.write(key, value, p, now);
          Replica.Write b = t.rocks.write(key, value, p, now);
          assertEquals(a.version(), b.version(), "same write at step " + step);
          assertEquals(a.existedBefore(), b.existedBefore());
          payloads.add(a.version().vc());
          what = "write " + key;
        } else if (op < 80) {
          Twin from = nodes.get(rnd.nextInt(NODES));
          if (from == t) continue;
          boolean partial = rnd.nextInt(4) == 0;
          int keep = rnd.nextInt(6);
          pull(t.mem, from.mem, partial, keep);
          pull(t.rocks, from.rocks, partial, keep);
          what = (partial ? "partial pull " : "pull ") + t.id + "<-" + from.id;
        } else if (op < 98) {
          int limit = 1 + rnd.nextInt(4);
          assertEquals(t.mem.collectGarbage(limit), t.rocks.collectGarbage(limit), "gc at step " + step);
          what = "gc";
        } else {
          t.restart(view);
          what = "restart " + t.id;
        }
        for (Twin n : nodes) assertSameState(n, step + " (" + what + ")");
      }
      // Finally everyone pulls from everyone until quiet: both engines converge the same way.
      for (int round = 0; round < 3; round++) {
        for (Twin a : nodes) for (Twin b : nodes) if (a != b) {
          pull(a.mem, b.mem, false, 0);
          pull(a.rocks, b.rocks, false, 0);
        }
        for (Twin n : nodes) {
          n.mem.collectGarbage(1000);
          n.rocks.collectGarbage(1000);
        }
      }
      for (Twin n : nodes) assertSameState(n, "final");
      assertEquals(state(nodes.get(0).rocks), state(nodes.get(1).rocks), "replicas converged");
      assertEquals(state(nodes.get(0).rocks), state(nodes.get(2).rocks), "replicas converged");
    } finally {
      for (Twin n : nodes) n.rocksStore.close();
    }
  }

  /** A pull of {@code puller} from {@code peer} (its request reports the puller's applied). */
  static void pull(Replica puller, Replica peer, boolean partial, int keep) {
    VectorClock since = puller.meta().applied();
    peer.notePeerApplied(puller.nodeId(), since, puller.view());
    Replica.PullAnswer a = peer.answerPull(since);
    List<Version> vs = RocksDbStoreTest.drain(a.delta());
    if (partial) {
      puller.merge(vs.subList(0, Math.min(keep, vs.size()))); // broke off: merge what came, raise nothing
      return;
    }
    puller.mergeView(a.view());
    puller.merge(vs);
    puller.raiseApplied(a.marks());
  }

  static List<Siblings> state(Replica r) {
    List<Siblings> out = new ArrayList<>();
    try (Store.Scan s = r.scan()) {
      while (s.hasNext()) out.add(s.next());
    }
    return out;
  }

  static void assertSameState(Twin n, String when) {
    assertEquals(n.mem.meta(), n.rocks.meta(), "meta of " + n.id + " after " + when);
    assertEquals(state(n.mem), state(n.rocks), "siblings of " + n.id + " after " + when);
    assertEquals(n.mem.keyCount(), n.rocks.keyCount(), "key count of " + n.id + " after " + when);
    assertEquals(RocksDbStoreTest.drain(n.mem.answerPull(VectorClock.EMPTY).delta()),
        RocksDbStoreTest.drain(n.rocks.answerPull(VectorClock.EMPTY).delta()), "log of " + n.id + " after " + when);
    VectorClock half = VectorClock.EMPTY;
    for (var e : n.mem.meta().applied().asMap().entrySet()) half = half.with(e.getKey(), e.getValue() / 2);
    assertEquals(n.mem.hasNewsFor(half, VectorClock.EMPTY), n.rocks.hasNewsFor(half, VectorClock.EMPTY));
    assertEquals(n.mem.stableVc(), n.rocks.stableVc());
  }
}
