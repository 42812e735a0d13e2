package dev.causalkv.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/** Keys by sibling count and tombstoned keys, kept exact from the commits' before/after siblings. */
class MeteredStoreTest {

  static final NodeMeta META = new NodeMeta("o#1", 0, VectorClock.EMPTY, VectorClock.EMPTY, ViewState.initial(List.of("n")));

  static Version v(String key, String value, String origin, long seq) {
    Dot d = new Dot(origin, seq);
    return new Version(key, value, d, VectorClock.EMPTY.with(d), seq);
  }

  static void change(Store s, String key, Siblings after) {
    s.commit(new Batch(List.of(new Batch.KeyChange(key, s.get(key), after)), META)).join();
  }

  static Map<String, Long> hist(long one, long two, long three, long more) {
    return Map.of("1", one, "2", two, "3", three, "4+", more);
  }

  @Test
  void countsFollowEveryCommit() {
    MeteredStore s = new MeteredStore(InMemoryStore.create(), new Metrics());
    s.countExisting();
    assertEquals(0, s.tombstonedKeys());
    change(s, "a", Siblings.of(List.of(v("a", "1", "x", 1))));
    change(s, "b", Siblings.of(List.of(v("b", "1", "x", 2))));
    assertEquals(hist(2, 0, 0, 0), s.siblingsHistogram());
    // a concurrent write from another origin: a sibling
    change(s, "a", s.get("a").merge(v("a", "2", "y", 1)));
    assertEquals(hist(1, 1, 0, 0), s.siblingsHistogram());
    change(s, "a", s.get("a").merge(v("a", "3", "z", 1)).merge(v("a", "4", "w", 1)));
    assertEquals(hist(1, 0, 0, 1), s.siblingsHistogram());
    // a tombstone that replaces b: pending collection; then collected (the key goes away)
    Dot t = new Dot("x", 3);
    Version tomb = Version.tombstone("b", t, VectorClock.EMPTY.with("x", 2).with(t), 3);
    change(s, "b", s.get("b").merge(tomb));
    assertEquals(1, s.tombstonedKeys());
    assertEquals(hist(1, 0, 0, 1), s.siblingsHistogram());
    change(s, "b", Siblings.EMPTY);
    assertEquals(0, s.tombstonedKeys());
    assertEquals(hist(0, 0, 0, 1), s.siblingsHistogram());
  }

  @Test
  void countsWhatTheEngineHeldBeforeAndNothingUntilThen() {
    InMemoryStore engine = InMemoryStore.create();
    for (int i = 1; i <= 5; i++) change(engine, "k" + i, Siblings.of(List.of(v("k" + i, "v", "x", i))));
    Dot t = new Dot("x", 6);
    change(engine, "gone", Siblings.of(List.of(Version.tombstone("gone", t, VectorClock.EMPTY.with(t), 6))));
    MeteredStore s = new MeteredStore(engine, new Metrics());
    assertEquals(-1, s.tombstonedKeys(), "not counted yet");
    assertTrue(s.siblingsHistogram().isEmpty());
    s.countExisting();
    assertEquals(1, s.tombstonedKeys());
    assertEquals(hist(6, 0, 0, 0), s.siblingsHistogram());
    change(s, "k1", Siblings.EMPTY);
    assertEquals(hist(5, 0, 0, 0), s.siblingsHistogram());
  }

  /** An engine whose disk has failed: commits fail, synchronously or once they should be durable. */
  static final class FailingStore implements Store {
    final InMemoryStore inner = InMemoryStore.create();
    volatile boolean throwAtOnce;

    @Override public NodeMeta loadMeta() { return inner.loadMeta(); }
    @Override public Siblings get(String key) { return inner.get(key); }
    @Override public CompletableFuture<Void> commit(Batch b) {
      if (throwAtOnce) throw new IllegalStateException("disk on fire");
      inner.commit(b);
      return CompletableFuture.failedFuture(new IllegalStateException("fsync failed: EIO"));
    }
    @Override public CompletableFuture<Void> durable() { return inner.durable(); }
    @Override public boolean hasVersionsAfter(VectorClock since) { return inner.hasVersionsAfter(since); }
    @Override public Delta delta(VectorClock since) { return inner.delta(since); }
    @Override public Scan scan() { return inner.scan(); }
    @Override public List<DotKey> tombstones(VectorClock upTo, Dot after, int limit) { return inner.tombstones(upTo, after, limit); }
    @Override public long keyCount() { return inner.keyCount(); }
    @Override public void close() { inner.close(); }
  }

  @Test
  void storageFailuresAreLoggedRateLimitedAndStillReachTheCaller() {
    FailingStore engine = new FailingStore();
    MeteredStore s = new MeteredStore(engine, new Metrics());
    try (LogCapture log = new LogCapture(MeteredStore.class, Level.INFO)) {
      CompletableFuture<Void> f = s.commit(new Batch(List.of(), META));
      assertTrue(f.isCompletedExceptionally(), "the failure reaches the caller");
      assertEquals(1, log.lines().size());
      assertTrue(log.lines().get(0).startsWith("SEVERE storage: commit could not be made durable: fsync failed: EIO"),
          log.lines().toString());
      engine.throwAtOnce = true;
      assertThrows(IllegalStateException.class, () -> s.commit(new Batch(List.of(), META)));
      for (int i = 0; i < 100; i++) {
        assertThrows(IllegalStateException.class, () -> s.commit(new Batch(List.of(), META)));
      }
      assertEquals(1, log.lines().size(), "at most one line per interval: " + log.lines());
    }
  }
}
