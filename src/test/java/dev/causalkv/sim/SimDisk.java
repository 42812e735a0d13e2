package dev.causalkv.sim;

import dev.causalkv.core.Batch;
import dev.causalkv.core.Dot;
import dev.causalkv.core.NodeMeta;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.StorageFailedException;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.storage.InMemoryStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;

/**
 * A simulated disk behind the {@link Store} port: a batch is visible the moment it is committed,
 * durable only once the simulation calls {@link #sync}, and {@link #crash} keeps exactly what was
 * durable; writes and fsyncs fail with the probabilities of its {@link Faults}, drawn from the
 * run's random source, and a failure makes the disk fail-stop as the real engine does.
 *
 * <p>Two {@link InMemoryStore}s hold the data: {@code visible} gets every batch at commit, and so
 * answers every read (its deltas and scans are copies, so snapshots, as the port requires);
 * {@code durable} gets the same batches, in the same order, when they are synced. A batch
 * carries its key's siblings before and after, taken from the visible state at commit; applied
 * in commit order to the durable store, whose state at that point is the visible state of that
 * moment, it reproduces the same change.
 *
 * <p>Fault model. A failed write throws {@link StorageFailedException} from {@link #commit} and
 * applies nothing. A failed fsync fails every future waiting on it; the disk may still have
 * written a prefix of the unsynced batches before failing (a random one is made durable), so a
 * restart may or may not see them, but none was reported durable. After either failure the disk
 * is failed for good: every commit throws, every {@link #durable} future fails. A crash between
 * write and fsync is {@link #crash} with unsynced batches. Randomness is drawn only for a knob
 * that is not zero, so a fault-free disk leaves the run's random stream alone.
 */
final class SimDisk implements Store {

  /** Per-commit probability that the write fails, per-fsync probability that the fsync fails. */
  record Faults(double writeFailure, double fsyncFailure) {
    static final Faults NONE = new Faults(0, 0);

    Faults {
      if (writeFailure < 0 || writeFailure > 1 || fsyncFailure < 0 || fsyncFailure > 1) {
        throw new IllegalArgumentException("probabilities must be in [0, 1]: " + writeFailure + ", " + fsyncFailure);
      }
    }
  }

  /** A committed batch not yet synced, or (batch null) a {@link #durable} call, with its future. */
  private record Pending(Batch batch, CompletableFuture<Void> future) {}

  private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);

  private final SplittableRandom rnd;
  private final Faults faults;
  private final InMemoryStore visible;
  private final InMemoryStore durable;
  /** In commit order; emptied by every fsync, successful or not. */
  private List<Pending> pending = new ArrayList<>();
  private StorageFailedException failure;
  private boolean crashed;
  private long syncs;

  private SimDisk(SplittableRandom rnd, Faults faults, InMemoryStore visible, InMemoryStore durable) {
    this.rnd = rnd;
    this.faults = faults;
    this.visible = visible;
    this.durable = durable;
  }

  /** An empty disk. */
  static SimDisk create(SplittableRandom rnd, Faults faults) {
    return new SimDisk(rnd, faults, InMemoryStore.create(), InMemoryStore.create());
  }

  // ---------------------------------------------------------------- the simulation's controls

  /**
   * One fsync: makes every batch committed so far durable and completes, in commit order, every
   * future waiting on them; or, if the fsync fault fires, fails them all and the disk with them.
   * Futures committed by their own callbacks wait for the next sync. Returns false if it failed.
   */
  boolean sync() {
    checkLive();
    if (failure != null) return false;
    if (pending.isEmpty()) return true;
    List<Pending> batch = pending;
    pending = new ArrayList<>();
    if (draw(faults.fsyncFailure())) {
      failure = new StorageFailedException("simulated fsync failure", new IOException("fsync: EIO"));
      int reached = rnd.nextInt(batch.size() + 1); // the disk may have written some before failing
      for (Pending p : batch.subList(0, reached)) if (p.batch() != null) durable.commit(p.batch());
      for (Pending p : batch) p.future().completeExceptionally(failure);
      return false;
    }
    syncs++;
    for (Pending p : batch) if (p.batch() != null) durable.commit(p.batch());
    for (Pending p : batch) p.future().complete(null);
    return true;
  }

  /**
   * The power goes: every batch not yet synced is lost and their futures never complete (a dead
   * process answers nobody). Returns the disk the restarted node opens, holding exactly the
   * durable state, healthy, with the same knobs; this disk is unusable from now on.
   */
  SimDisk crash() {
    checkLive();
    crashed = true;
    pending = List.of();
    return new SimDisk(rnd, faults, durable, copyOf(durable));
  }

  /** Committed batches (and durable() calls) waiting for an fsync. */
  int unsynced() {
    return pending.size();
  }

  boolean failed() {
    return failure != null;
  }

  /** Successful fsyncs so far. */
  long syncs() {
    return syncs;
  }

  // ---------------------------------------------------------------- the port

  @Override
  public NodeMeta loadMeta() {
    checkLive();
    return visible.loadMeta();
  }

  @Override
  public Siblings get(String key) {
    checkLive();
    return visible.get(key);
  }

  @Override
  public CompletableFuture<Void> commit(Batch batch) {
    checkLive();
    if (failure != null) throw failure;
    if (draw(faults.writeFailure())) {
      failure = new StorageFailedException("simulated write failure", new IOException("write: EIO"));
      failPending();
      throw failure;
    }
    visible.commit(batch);
    CompletableFuture<Void> f = new CompletableFuture<>();
    pending.add(new Pending(batch, f));
    return f;
  }

  @Override
  public CompletableFuture<Void> durable() {
    checkLive();
    if (failure != null) return CompletableFuture.failedFuture(failure);
    if (pending.isEmpty()) return DONE;
    CompletableFuture<Void> f = new CompletableFuture<>();
    pending.add(new Pending(null, f));
    return f;
  }

  @Override
  public boolean hasVersionsAfter(VectorClock since) {
    checkLive();
    return visible.hasVersionsAfter(since);
  }

  @Override
  public Delta delta(VectorClock since) {
    checkLive();
    return visible.delta(since);
  }

  @Override
  public Scan scan() {
    checkLive();
    return visible.scan();
  }

  @Override
  public List<DotKey> tombstones(VectorClock upTo, Dot after, int limit) {
    checkLive();
    return visible.tombstones(upTo, after, limit);
  }

  @Override
  public long keyCount() {
    checkLive();
    return visible.keyCount();
  }

  @Override
  public void close() {}

  // ---------------------------------------------------------------- internals

  private boolean draw(double probability) {
    return probability > 0 && rnd.nextDouble() < probability;
  }

  /** A failed write fails the disk: what waits for an fsync is failed with it, as in the engine. */
  private void failPending() {
    List<Pending> waiting = pending;
    pending = new ArrayList<>();
    for (Pending p : waiting) p.future().completeExceptionally(failure);
  }

  private void checkLive() {
    if (crashed) throw new IllegalStateException("simulated disk used after its crash");
  }

  /** A store holding the same keys and metadata as {@code src}, by one batch through the port. */
  private static InMemoryStore copyOf(InMemoryStore src) {
    InMemoryStore copy = InMemoryStore.create();
    NodeMeta meta = src.loadMeta();
    if (meta == null) return copy; // nothing was ever durable: a fresh start
    List<Batch.KeyChange> changes = new ArrayList<>();
    try (Scan s = src.scan()) {
      while (s.hasNext()) {
        Siblings sib = s.next();
        changes.add(new Batch.KeyChange(sib.versions().get(0).key(), Siblings.EMPTY, sib));
      }
    }
    copy.commit(new Batch(changes, meta));
    return copy;
  }
}
