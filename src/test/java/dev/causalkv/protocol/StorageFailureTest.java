package dev.causalkv.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.causalkv.core.Batch;
import dev.causalkv.core.Dot;
import dev.causalkv.core.NodeMeta;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.StorageFailedException;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.storage.InMemoryStore;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * After any storage failure the node never hands out a dot twice: it stops serving (503), and a
 * write caught in the failure is answered as indefinite (docs/design.md §7).
 */
class StorageFailureTest {

  /** The in-memory engine, with a write or an fsync that can be made to fail. */
  static final class Faulty implements Store {
    final InMemoryStore inner = InMemoryStore.create();
    boolean failWrites;
    boolean failSyncs;

    @Override public NodeMeta loadMeta() { return inner.loadMeta(); }
    @Override public Siblings get(String key) { return inner.get(key); }

    @Override
    public CompletableFuture<Void> commit(Batch batch) {
      if (failWrites) throw new StorageFailedException("write failed (test)", null);
      inner.commit(batch);
      return durable();
    }

    @Override
    public CompletableFuture<Void> durable() {
      return failSyncs ? CompletableFuture.failedFuture(new StorageFailedException("fsync failed (test)", null))
          : CompletableFuture.completedFuture(null);
    }

    @Override public boolean hasVersionsAfter(VectorClock since) { return inner.hasVersionsAfter(since); }
    @Override public Delta delta(VectorClock since) { return inner.delta(since); }
    @Override public Scan scan() { return inner.scan(); }
    @Override public List<DotKey> tombstones(VectorClock upTo, Dot after, int limit) { return inner.tombstones(upTo, after, limit); }
    @Override public long keyCount() { return inner.keyCount(); }
    @Override public void close() {}
  }

  @Test
  void aFailedFsyncAnswersTheWriteAsIndefiniteAndStopsTheNode() {
    Cores c = new Cores();
    Faulty disk = new Faulty();
    Cores.N a = c.add("A", List.of("A"), disk);
    a.put("k", "1", VectorClock.EMPTY);
    disk.failSyncs = true;
    Reply r = a.op(Event.Op.PUT, "k", "2", VectorClock.EMPTY);
    Reply.Client indefinite = assertInstanceOf(Reply.Client.class, r);
    assertEquals(Reply.Outcome.INDEFINITE, indefinite.outcome(), "written to the log, maybe durable: neither done nor not done");
    assertTrue(a.core.isFailed());
    disk.failSyncs = false; // even if the disk recovers, the node does not guess
    assertInstanceOf(Reply.Unavailable.class, a.op(Event.Op.PUT, "k", "3", VectorClock.EMPTY), "no write taken after the failure");
    assertInstanceOf(Reply.Unavailable.class, a.op(Event.Op.GET, "k", null, VectorClock.EMPTY), "no read served either");
    assertTrue(a.core.notReady() != null);
  }

  @Test
  void aFailedWriteIsRefusedAndTheRestartedNodeReusesNoServedDot() {
    Cores c = new Cores();
    Faulty disk = new Faulty();
    Cores.N a = c.add("A", List.of("A"), disk);
    Reply.Client w1 = a.put("k", "1", VectorClock.EMPTY);
    disk.failWrites = true;
    Reply failed = a.op(Event.Op.PUT, "k", "2", VectorClock.EMPTY);
    assertInstanceOf(Reply.Unavailable.class, failed, "the batch never reached the engine: a definite refusal");
    assertTrue(a.core.isFailed());
    disk.failWrites = false;
    a.restart();
    Reply.Client w2 = a.put("k", "2", w1.payload());
    assertEquals(w1.visible().dot().seq() + 1, w2.visible().dot().seq(), "the refused write had no dot anybody saw");
  }
}
