package dev.causalkv.storage;

import static dev.causalkv.storage.EngineEquivalenceTest.pull;
import static dev.causalkv.storage.EngineEquivalenceTest.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.causalkv.core.Replica;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.storage.rocksdb.RocksDbStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Tombstone garbage collection by causal stability (DESIGN.md §7), on both engines: a tombstone
 * goes only once every member has applied it, and a deleted key never comes back, not even from a
 * replica that was partitioned away during the delete.
 */
class TombstoneGcTest {

  @TempDir Path tmp;
  final List<Store> stores = new ArrayList<>();
  static final List<String> VIEW = List.of("a:1", "b:1", "c:1");

  Replica replica(String engine, String id) {
    Store s = engine.equals("rocks")
        ? RocksDbStore.open(tmp.resolve(id.replace(':', '_')), RocksDbStore.SyncMode.NEVER, 4 << 20)
        : InMemoryStore.create();
    stores.add(s);
    return Replica.open(s, id, VIEW, () -> "1", null);
  }

  @AfterEach
  void close() {
    for (Store s : stores) s.close();
  }

  /** Every pair pulls once: a connected round of anti-entropy among {@code rs}. */
  static void exchange(Replica... rs) {
    for (Replica a : rs) for (Replica b : rs) if (a != b) pull(a, b, false, 0);
  }

  static boolean holds(Replica r, String key) {
    return !r.read(key, VectorClock.EMPTY).siblings().isEmpty();
  }

  static boolean exists(Replica r, String key) {
    return r.read(key, VectorClock.EMPTY).siblings().exists();
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "rocks"})
  void deletedKeyCannotComeBackFromAReplicaPartitionedDuringTheDelete(String engine) {
    Replica a = replica(engine, "a:1");
    Replica b = replica(engine, "b:1");
    Replica c = replica(engine, "c:1");
    a.write("k", "v1", VectorClock.EMPTY, 1);
    exchange(a, b, c);
    exchange(a, b, c);
    assertTrue(exists(c, "k"));

    // c is cut off; a deletes k; a and b exchange and collect as often as they like.
    a.write("k", null, a.read("k", VectorClock.EMPTY).payload(), 2);
    for (int i = 0; i < 3; i++) {
      exchange(a, b);
      a.collectGarbage(100);
      b.collectGarbage(100);
    }
    assertFalse(exists(a, "k"));
    assertTrue(holds(a, "k"), "the tombstone stays while c has not applied it");
    assertTrue(holds(b, "k"), "the tombstone stays while c has not applied it");
    VectorClock tombVc = a.read("k", VectorClock.EMPTY).siblings().vc();
    assertFalse(a.stableVc().dominatesOrEquals(tombVc), "c's last report predates the delete");

    // Heal: the tombstone reaches c; then every member's report covers it.
    exchange(a, b, c);
    exchange(a, b, c);
    assertTrue(c.stableVc().dominatesOrEquals(tombVc));
    // c collects first, then writes k with an older clock than the delete's: its write still
    // replaces the tombstone at a and b, which hold it yet (dropped tombstones' vcs go into lastOwnVc).
    assertEquals(1, c.collectGarbage(100));
    assertFalse(holds(c, "k"));
    Replica.Write w = c.write("k", "v2", VectorClock.EMPTY, 0);
    exchange(a, b, c);
    for (Replica r : List.of(a, b, c)) {
      assertEquals(Siblings.of(List.of(w.version())), r.read("k", VectorClock.EMPTY).siblings(), r.nodeId());
      assertTrue(exists(r, "k"));
    }

    // Delete again, heal, collect everywhere: the key is gone for good.
    a.write("k", null, a.read("k", VectorClock.EMPTY).payload(), 3);
    for (int i = 0; i < 3; i++) {
      exchange(a, b, c);
      for (Replica r : List.of(a, b, c)) r.collectGarbage(100);
    }
    for (Replica r : List.of(a, b, c)) {
      assertFalse(exists(r, "k"), r.nodeId() + " must not show the deleted key");
      assertFalse(holds(r, "k"), r.nodeId() + " collected the tombstone");
      assertEquals(0, r.keyCount());
    }
    exchange(a, b, c);
    for (Replica r : List.of(a, b, c)) assertFalse(holds(r, "k"), "nothing comes back at " + r.nodeId());
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "rocks"})
  void tombstoneWithAConcurrentValueIsKeptAndReplicasAgree(String engine) {
    Replica a = replica(engine, "a:1");
    Replica b = replica(engine, "b:1");
    Replica c = replica(engine, "c:1");
    a.write("k", "v1", VectorClock.EMPTY, 1);
    exchange(a, b, c);
    // Partitioned: c overwrites k while a deletes it, the delete with the later timestamp.
    c.write("k", "from-c", VectorClock.EMPTY, 5);
    a.write("k", null, VectorClock.EMPTY, 9);
    for (int i = 0; i < 3; i++) {
      exchange(a, b, c);
      for (Replica r : List.of(a, b, c)) r.collectGarbage(100);
    }
    for (Replica r : List.of(a, b, c)) {
      assertEquals(2, r.read("k", VectorClock.EMPTY).siblings().versions().size(), r.nodeId() + " keeps both siblings");
      assertFalse(exists(r, "k"), "the later delete is visible at " + r.nodeId());
    }
    assertEquals(state(a), state(b));
    assertEquals(state(a), state(c));
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "rocks"})
  void nothingIsCollectedWithoutEveryMembersReportOrAfterAViewChange(String engine) {
    Replica a = replica(engine, "a:1");
    Replica b = replica(engine, "b:1");
    Replica c = replica(engine, "c:1");
    a.write("k", "v", VectorClock.EMPTY, 1);
    a.write("k", null, a.read("k", VectorClock.EMPTY).payload(), 2);
    assertNull(a.stableVc(), "no member has reported yet");
    pull(b, a, false, 0);
    pull(c, a, false, 0);
    assertEquals(0, a.collectGarbage(100), "the reports were made before b and c had the tombstone");
    assertTrue(holds(a, "k"));
    pull(b, a, false, 0);
    assertNull(c.stableVc(), "c has no report from a or b");
    pull(c, a, false, 0);
    assertTrue(a.stableVc().dominatesOrEquals(a.meta().applied()));
    // A view change forgets every report: they may predate what the change implies.
    a.changeView("c:1", false);
    assertNull(a.stableVc());
    assertEquals(0, a.collectGarbage(100));
    assertTrue(holds(a, "k"));
    pull(b, a, false, 0); // b's view lacks the removal: its report is not taken
    assertNull(a.stableVc());
    b.mergeView(a.view());
    pull(b, a, false, 0);
    assertEquals(1, a.collectGarbage(100));
    assertFalse(holds(a, "k"));
  }
}
