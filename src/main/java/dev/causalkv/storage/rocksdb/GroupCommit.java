package dev.causalkv.storage.rocksdb;

import dev.causalkv.core.StorageFailedException;
import dev.causalkv.storage.rocksdb.RocksDbStore.SyncMode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Decides when commits count as durable, per {@link SyncMode}, and enforces fail-stop: after any
 * failed write or fsync nothing is ever reported durable again.
 *
 * <p>Three counters, in commit order: {@code begun} (writes started), {@code written} (writes that
 * returned) and {@code synced} (writes covered by a completed fsync). A write is visible to
 * readers as soon as it is in the memtable, before its fsync, so {@link #durable} waits for
 * {@code synced >= begun}, the writes begun so far, not only those that returned: a reader
 * that saw a version of a commit still between write and fsync cannot be told "durable" before
 * that fsync succeeds. An fsync covers only writes that had returned before it started.
 *
 * <p>{@code BATCH}: one syncer thread takes {@code written}, fsyncs the log once, and completes
 * every future waiting on a commit up to that count (group commit: concurrent writers share one
 * fsync, and the replica's lock is never held across one). {@code ALWAYS}: the committing thread
 * fsyncs right after its write, under the replica's lock. {@code NEVER}: nothing is promised, so
 * futures complete at once, unless the store has failed. Futures are completed on an
 * acknowledgement thread, never on the thread that fsyncs: their callbacks send HTTP answers.
 *
 * <p>The caller serialises commits (one writer), calling {@link #begin}, then its write, then
 * {@link #written} or {@link #writeFailed}.
 */
final class GroupCommit implements AutoCloseable {

  /** One fsync of the write-ahead log. */
  interface Fsync {
    void run() throws Exception;
  }

  private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

  private record Pending(long upTo, CompletableFuture<Void> future) {}

  private final SyncMode mode;
  private final Fsync fsync;
  private final String where;
  private final ReentrantLock mutex = new ReentrantLock();
  private final Condition work = mutex.newCondition();
  /** Futures waiting for {@code synced >= upTo}. */
  private final List<Pending> pending = new ArrayList<>();
  private long begun;
  private long written;
  private long synced;
  private long fsyncs;
  private StorageFailedException failure;
  private boolean stopping;
  private final Thread syncer;
  private final ExecutorService acks;
  private volatile SyncListener listener = SyncListener.NONE;

  GroupCommit(SyncMode mode, Fsync fsync, String where) {
    this.mode = mode;
    this.fsync = fsync;
    this.where = where;
    if (mode == SyncMode.NEVER) {
      this.acks = null;
      this.syncer = null;
      return;
    }
    this.acks = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "wal-acks");
      t.setDaemon(true);
      return t;
    });
    if (mode == SyncMode.BATCH) {
      this.syncer = new Thread(this::syncLoop, "wal-syncer");
      this.syncer.setDaemon(true);
      this.syncer.start();
    } else {
      this.syncer = null;
    }
  }

  /** Tells {@code l} of every successful fsync (for the fsync-latency and group-commit metrics). */
  void onSync(SyncListener l) {
    this.listener = l;
  }

  /**
   * Called just before a write reaches the engine: from now on {@link #durable} waits for it.
   * Returns the write's ticket. Throws {@link StorageFailedException} once the store has failed.
   */
  long begin() {
    mutex.lock();
    try {
      if (failure != null) throw failure;
      return ++begun;
    } finally {
      mutex.unlock();
    }
  }

  /** The write of {@code ticket} returned: the future of its commit, per the mode. */
  CompletableFuture<Void> written(long ticket) {
    CompletableFuture<Void> f;
    mutex.lock();
    try {
      written = ticket;
      if (failure != null) return CompletableFuture.failedFuture(failure);
      if (mode == SyncMode.NEVER) return DONE;
      if (mode == SyncMode.ALWAYS) {
        f = null;
      } else {
        f = new CompletableFuture<>();
        pending.add(new Pending(ticket, f));
        work.signal();
      }
    } finally {
      mutex.unlock();
    }
    if (f != null) return f;
    // ALWAYS: fsync now, on the committing thread.
    try {
      long t0 = System.nanoTime();
      fsync.run();
      listener.synced(System.nanoTime() - t0, 1);
    } catch (Exception e) {
      return CompletableFuture.failedFuture(fail("fsync of the write-ahead log in " + where + " failed", e));
    }
    List<CompletableFuture<Void>> done;
    mutex.lock();
    try {
      if (failure != null) return CompletableFuture.failedFuture(failure);
      done = advanceTo(ticket);
    } finally {
      mutex.unlock();
    }
    acknowledge(done, null);
    return DONE;
  }

  /** The write itself failed: the store is failed. Returns the exception the commit throws. */
  StorageFailedException writeFailed(Throwable cause) {
    return fail("write to " + where + " failed", cause);
  }

  /** Completes once every write begun so far is durable; exceptionally once the store has failed. */
  CompletableFuture<Void> durable() {
    mutex.lock();
    try {
      if (failure != null) return CompletableFuture.failedFuture(failure);
      if (mode == SyncMode.NEVER || synced >= begun) return DONE;
      CompletableFuture<Void> f = new CompletableFuture<>();
      pending.add(new Pending(begun, f));
      work.signal();
      return f;
    } finally {
      mutex.unlock();
    }
  }

  /** How many fsyncs of the log commits have made (ALWAYS: one per commit; BATCH: one per group). */
  long fsyncs() {
    mutex.lock();
    try {
      return fsyncs;
    } finally {
      mutex.unlock();
    }
  }

  boolean failed() {
    mutex.lock();
    try {
      return failure != null;
    } finally {
      mutex.unlock();
    }
  }

  /** Records a successful fsync covering writes up to {@code target}; the futures it satisfies. Mutex held. */
  private List<CompletableFuture<Void>> advanceTo(long target) {
    synced = Math.max(synced, target);
    fsyncs++;
    List<CompletableFuture<Void>> done = new ArrayList<>();
    for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
      Pending p = it.next();
      if (p.upTo() <= synced) {
        done.add(p.future());
        it.remove();
      }
    }
    return done;
  }

  /** Fails the store for good (the first cause wins) and every future waiting on it. */
  private StorageFailedException fail(String what, Throwable cause) {
    StorageFailedException f;
    List<CompletableFuture<Void>> waiting = new ArrayList<>();
    mutex.lock();
    try {
      if (failure == null) failure = new StorageFailedException(what + ": " + cause.getMessage(), cause);
      f = failure;
      for (Pending p : pending) waiting.add(p.future());
      pending.clear();
      work.signalAll();
    } finally {
      mutex.unlock();
    }
    acknowledge(waiting, f);
    return f;
  }

  /**
   * The group-commit loop (BATCH): take the count of writes that returned, fsync the log once,
   * then complete every future waiting on a write up to that count. Writers arriving during the
   * fsync share the next one. It sleeps while nothing waits, or while what waits is a write still
   * in progress (its return wakes the loop).
   */
  private void syncLoop() {
    while (true) {
      long target = 0;
      long group = 0;
      List<CompletableFuture<Void>> left = null;
      mutex.lock();
      try {
        while (!stopping && !hasWork()) work.awaitUninterruptibly();
        if (hasWork()) {
          target = written;
          group = target - synced;
        } else { // stopping: what still waits is on a write that never returned
          left = new ArrayList<>();
          for (Pending p : pending) left.add(p.future());
          pending.clear();
        }
      } finally {
        mutex.unlock();
      }
      if (left != null) {
        for (CompletableFuture<Void> f : left) f.completeExceptionally(new IllegalStateException("store closed before sync"));
        return;
      }
      try {
        long t0 = System.nanoTime();
        fsync.run();
        listener.synced(System.nanoTime() - t0, group);
      } catch (Exception e) {
        fail("fsync of the write-ahead log in " + where + " failed", e);
        continue;
      }
      List<CompletableFuture<Void>> done;
      mutex.lock();
      try {
        if (failure != null) continue; // failed meanwhile: every waiter was failed with it
        done = advanceTo(target);
      } finally {
        mutex.unlock();
      }
      acknowledge(done, null);
    }
  }

  /** Some future waits and some returned write is not yet synced. Mutex held. */
  private boolean hasWork() {
    return failure == null && !pending.isEmpty() && written > synced;
  }

  /** Completes futures off the fsyncing thread, so the next fsync can start at once. */
  private void acknowledge(List<CompletableFuture<Void>> futures, Throwable outcome) {
    if (futures.isEmpty()) return;
    Runnable r = () -> {
      for (CompletableFuture<Void> f : futures) {
        if (outcome == null) f.complete(null);
        else f.completeExceptionally(outcome);
      }
    };
    try {
      acks.execute(r);
    } catch (RejectedExecutionException closing) {
      r.run();
    }
  }

  /** Stops the syncer after a last fsync for whatever waits on a returned write. */
  @Override
  public void close() {
    if (acks == null) return;
    mutex.lock();
    try {
      stopping = true;
      work.signalAll();
    } finally {
      mutex.unlock();
    }
    try {
      if (syncer != null) syncer.join(10_000);
      acks.shutdown();
      acks.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
