package dev.causalkv.core;

import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The storage port: siblings per key, a per-origin index of live versions ordered by seq (the
 * "log" of docs/design.md §5), and the node metadata, changed only by atomic batches.
 *
 * <p>The replica calls every method while holding its own lock, so engines see one writer; only
 * the iteration of a {@link Delta} may continue after the lock is released, which is why a delta
 * must read from a snapshot taken when it was created.
 *
 * <p><b>Fail-stop.</b> After any failed write or fsync the store is <em>failed</em>, for good:
 * every later {@link #commit} throws {@link StorageFailedException}, and every {@link #durable}
 * and commit future, pending or new, completes exceptionally with it. A batch that was written
 * but whose fsync failed may still be visible to {@link #get}, but nothing it holds is ever
 * reported durable, so no dot the failed store handed out can be acknowledged and then reused
 * after a restart. The caller stops taking writes (503) until the node is restarted.
 */
public interface Store extends AutoCloseable {

  /** The persisted metadata, or null when the store has never been written (a fresh start). */
  NodeMeta loadMeta();

  /** The siblings of {@code key}; {@link Siblings#EMPTY} when the key was never written. */
  Siblings get(String key);

  /**
   * Applies the batch atomically. On return its effects are visible to {@link #get}; the future
   * completes once they are durable (at once for engines that promise no durability), or
   * exceptionally with {@link StorageFailedException} if they cannot be made durable.
   *
   * @throws StorageFailedException if the store has failed, or the write itself failed (the store
   *     is then failed)
   */
  CompletableFuture<Void> commit(Batch batch);

  /**
   * Completes once everything committed so far is durable, including a commit another thread has
   * begun but not yet returned from (its effects may already be visible to {@link #get}); completes
   * exceptionally with {@link StorageFailedException} once the store has failed.
   */
  CompletableFuture<Void> durable();

  /** True when some live version of some origin {@code o} has {@code seq > since[o]}. */
  boolean hasVersionsAfter(VectorClock since);

  /**
   * Every live version of every origin {@code o} with {@code seq > since[o]}, read from one
   * consistent snapshot taken now, in any order.
   */
  Delta delta(VectorClock since);

  /** Every key's siblings, from one consistent snapshot taken now, in key order. */
  Scan scan();

  /**
   * Up to {@code limit} tombstone versions whose dot is covered by {@code upTo}, with their keys,
   * in {@link Dot} order, strictly after {@code after} (null: from the first). The candidates of
   * tombstone garbage collection (docs/design.md §7).
   */
  List<DotKey> tombstones(VectorClock upTo, Dot after, int limit);

  /** Number of keys held (tombstoned keys included); may be an estimate for large engines. */
  long keyCount();

  @Override
  void close();

  /** A dot and the key of the version it names. */
  record DotKey(Dot dot, String key) {}

  /** A snapshot iteration over versions; must be closed. */
  interface Delta extends Iterator<Version>, AutoCloseable {
    @Override
    void close();

    /** A delta over versions already copied out (nothing to release). */
    static Delta of(java.util.List<Version> versions) {
      Iterator<Version> it = versions.iterator();
      return new Delta() {
        @Override public boolean hasNext() { return it.hasNext(); }
        @Override public Version next() { return it.next(); }
        @Override public void close() {}
      };
    }
  }

  /** A snapshot iteration over keys' siblings; must be closed. */
  interface Scan extends Iterator<Siblings>, AutoCloseable {
    @Override
    void close();
  }
}
