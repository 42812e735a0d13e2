package dev.causalkv.driver;

import dev.causalkv.core.Store;
import dev.causalkv.protocol.Event;
import dev.causalkv.protocol.NodeCore;
import dev.causalkv.protocol.Ready;
import dev.causalkv.protocol.Reply;
import dev.causalkv.protocol.Send;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * The small loop that drives a {@link NodeCore}: one event at a time, it steps the core, persists
 * the step's batch, advances, and carries the rest out through {@link Effects} once the store is
 * durable. Production and the simulation both run it; only their effects differ (sockets and
 * threads, or a simulated network and disk). A storage failure stops the node: the replies of
 * the failed step never go out, and the core answers every request 503 from then on.
 */
public final class NodeLoop {

  /** How a loop's decisions reach the world. Implementations must not call back into the loop synchronously. */
  public interface Effects {
    /** Delivers a reply to the request it answers (closing a pull answer's delta once streamed). */
    void deliver(Reply reply);

    /** Sends a message to a peer; its outcome comes back as an event. */
    void send(Send message);

    /** Abandons a pull in flight. */
    void cancel(long pullId);

    /** Asks for {@link Event.Tick} to be stepped at {@code atMillis} (on the loop's clock) or soon after. */
    void wakeAt(long atMillis);
  }

  /**
   * Where the loop's lock time goes, summed since start (nanoseconds): waiting for the lock, the
   * core's step, the store's commit, the advance; and how many steps. For measurements only.
   */
  public record LockStats(long steps, long waitNanos, long stepNanos, long commitNanos, long advanceNanos) {}

  /**
   * Told after every step, under the loop's lock, once the step's state is published (for logs
   * and metrics that follow the core's snapshots in order). Must be quick and must not call back
   * into the loop.
   */
  @FunctionalInterface
  public interface Observer {
    void stepped(NodeCore core, long nowMillis);
  }

  private final NodeCore core;
  private final Store store;
  private final Effects effects;
  private final LongSupplier clockMillis;
  private final Observer observer;
  private long armedAtMillis = Long.MAX_VALUE;
  // Changed under the lock only; read under it by lockStats().
  private long steps;
  private long waitNanos;
  private long stepNanos;
  private long commitNanos;
  private long advanceNanos;

  public NodeLoop(NodeCore core, Store store, Effects effects, LongSupplier clockMillis) {
    this(core, store, effects, clockMillis, (c, now) -> {});
  }

  public NodeLoop(NodeCore core, Store store, Effects effects, LongSupplier clockMillis, Observer observer) {
    this.core = core;
    this.store = store;
    this.effects = effects;
    this.clockMillis = clockMillis;
    this.observer = observer;
  }

  public NodeCore core() {
    return core;
  }

  public synchronized LockStats lockStats() {
    return new LockStats(steps, waitNanos, stepNanos, commitNanos, advanceNanos);
  }

  /** A client operation: answered at once when the last persisted state covers it, else stepped. */
  public void clientOp(Event.ClientOp op) {
    Reply fast = core.tryRead(op);
    if (fast == null) {
      step(op);
      return;
    }
    CompletableFuture<Void> d = store.durable();
    if (d.isDone() && !d.isCompletedExceptionally()) {
      effects.deliver(fast);
    } else {
      whenDurable(d, List.of(fast), List.of());
    }
  }

  /** Steps {@code event} and carries out what the core asks. */
  public void step(Event event) {
    Ready ready;
    List<Reply> answers;
    long wake = Long.MAX_VALUE;
    long t0 = System.nanoTime();
    // One plain monitor, held for the step, its commit and advance() only. An inbox drained by whichever thread
    // holds the lock (flat combining) was tried: interleaved against this, 3-node mix50 ran at 0.67x
    // with 1.38x the CPU per op, and writes gained nothing, so the simple lock stays.
    synchronized (this) {
      long t1 = System.nanoTime();
      long now = clockMillis.getAsLong();
      if (event instanceof Event.Tick && armedAtMillis <= now) armedAtMillis = Long.MAX_VALUE;
      ready = core.step(now, event);
      long t2 = System.nanoTime();
      if (ready.persist() != null) {
        try {
          store.commit(ready.persist());
        } catch (RuntimeException e) {
          failed(e, ready.replies(), false); // the engine applied nothing
          return;
        }
      }
      long t3 = System.nanoTime();
      answers = core.advance();
      steps++;
      waitNanos += t1 - t0;
      stepNanos += t2 - t1;
      commitNanos += t3 - t2;
      advanceNanos += System.nanoTime() - t3;
      observer.stepped(core, now);
      if (ready.wakeAtMillis() < armedAtMillis) {
        armedAtMillis = ready.wakeAtMillis();
        wake = armedAtMillis;
      }
    }
    for (long id : ready.cancels()) effects.cancel(id);
    if (wake != Long.MAX_VALUE) effects.wakeAt(wake);
    if (ready.replies().isEmpty() && answers.isEmpty() && ready.sends().isEmpty()) return;
    if (core.isFailed()) {
      // A failed node only refuses (or says a write's fate is unknown): nothing to wait for, and the store can no longer promise anything.
      carryOut(ready.replies(), answers, ready.sends());
      return;
    }
    CompletableFuture<Void> d = store.durable();
    if (d.isDone() && !d.isCompletedExceptionally()) {
      carryOut(ready.replies(), answers, ready.sends());
    } else {
      List<Reply> all = new ArrayList<>(ready.replies());
      all.addAll(answers);
      whenDurable(d, all, ready.sends());
    }
  }

  private void whenDurable(CompletableFuture<Void> d, List<Reply> replies, List<Send> sends) {
    d.whenComplete((ok, err) -> {
      if (err == null) {
        carryOut(replies, List.of(), sends);
      } else {
        synchronized (this) {
          failed(err, replies, true); // written, not known durable
        }
      }
    });
  }

  private void carryOut(List<Reply> replies, List<Reply> answers, List<Send> sends) {
    for (Reply r : replies) effects.deliver(r);
    for (Reply r : answers) effects.deliver(r);
    for (Send s : sends) effects.send(s);
  }

  /** Persisting or syncing failed: none of these replies may go out; the core answers them 503 and stops. */
  private void failed(Throwable cause, List<Reply> lost, boolean mayBeDurable) {
    for (Reply r : lost) {
      if (r instanceof Reply.Pull p) p.answer().delta().close();
    }
    Throwable c = cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null ? cause.getCause() : cause;
    String reason = c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    step(new Event.StorageFailed(reason, lost, mayBeDurable));
  }
}
