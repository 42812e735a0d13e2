package dev.causalkv.storage;

import dev.causalkv.core.Batch;
import dev.causalkv.core.Dot;
import dev.causalkv.core.NodeMeta;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * The reference storage engine: plain maps in the heap, nothing durable. Used by tests, the
 * simulation, and nodes started with {@code DATA_DIR=:memory:}.
 *
 * <p>Deltas and scans are copied eagerly while the replica's lock is held, which is what makes
 * them consistent snapshots.
 */
public final class InMemoryStore implements Store {

  private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

  private final Map<String, Siblings> keys = new HashMap<>();
  /** origin → seq → key of the live version with that dot. */
  private final Map<String, SeqIndex> log = new HashMap<>();
  /** The tombstones among them, in dot order. */
  private final TreeMap<Dot, String> tombs = new TreeMap<>();
  private NodeMeta meta;

  public static InMemoryStore create() {
    return new InMemoryStore();
  }

  @Override
  public synchronized NodeMeta loadMeta() {
    return meta;
  }

  @Override
  public synchronized Siblings get(String key) {
    Siblings s = keys.get(key);
    return s == null ? Siblings.EMPTY : s;
  }

  @Override
  public synchronized CompletableFuture<Void> commit(Batch batch) {
    for (Batch.KeyChange c : batch.changes()) {
      for (Version v : c.before().versions()) {
        if (!c.after().contains(v.dot())) {
          SeqIndex idx = log.get(v.dot().origin());
          if (idx != null) idx.remove(v.dot().seq());
          if (v.isTombstone()) tombs.remove(v.dot());
        }
      }
      for (Version v : c.after().versions()) {
        log.computeIfAbsent(v.dot().origin(), o -> new SeqIndex()).put(v.dot().seq(), v.key());
        if (v.isTombstone()) tombs.put(v.dot(), v.key());
      }
      if (c.after().isEmpty()) keys.remove(c.key());
      else keys.put(c.key(), c.after());
    }
    meta = batch.meta();
    return DONE;
  }

  @Override
  public CompletableFuture<Void> durable() {
    return DONE;
  }

  @Override
  public synchronized boolean hasVersionsAfter(VectorClock since) {
    for (Map.Entry<String, SeqIndex> e : log.entrySet()) {
      if (e.getValue().last() > since.get(e.getKey())) return true;
    }
    return false;
  }

  @Override
  public synchronized Delta delta(VectorClock since) {
    List<Version> out = new ArrayList<>();
    for (Map.Entry<String, SeqIndex> e : log.entrySet()) {
      String origin = e.getKey();
      e.getValue().forEachAfter(since.get(origin), (key, seq) -> {
        for (Version v : keys.get(key).versions()) {
          if (v.dot().origin().equals(origin) && v.dot().seq() == seq) out.add(v);
        }
      });
    }
    return Delta.of(out);
  }

  @Override
  public synchronized Scan scan() {
    TreeMap<String, Siblings> copy = new TreeMap<>(keys);
    Iterator<Siblings> it = copy.values().iterator();
    return new Scan() {
      @Override public boolean hasNext() { return it.hasNext(); }
      @Override public Siblings next() { return it.next(); }
      @Override public void close() {}
    };
  }

  @Override
  public synchronized List<DotKey> tombstones(VectorClock upTo, Dot after, int limit) {
    List<DotKey> out = new ArrayList<>();
    for (Map.Entry<Dot, String> e : (after == null ? tombs : tombs.tailMap(after, false)).entrySet()) {
      if (out.size() >= limit) break;
      if (upTo.covers(e.getKey())) out.add(new DotKey(e.getKey(), e.getValue()));
    }
    return out;
  }

  @Override
  public synchronized long keyCount() {
    return keys.size();
  }

  @Override
  public void close() {}
}
