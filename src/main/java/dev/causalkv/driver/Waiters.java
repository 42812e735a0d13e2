package dev.causalkv.driver;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Requests parked until the replica's state lets them finish (a read whose payload becomes
 * covered, a pull that gets news) or their deadline passes, without holding a thread each.
 *
 * <p>Each replica change calls {@link #signal}, which re-checks every parked request once on the
 * executor; signals arriving while a check is queued are coalesced into it. The number parked is
 * bounded: past the limit a request is answered as if its deadline had passed.
 */
public final class Waiters {

  /** A parked request: {@code ready()} is checked on every change; exactly one of the two finishers runs. */
  public abstract static class Waiter {
    private final AtomicBoolean done = new AtomicBoolean();
    /** When it was parked ({@link System#nanoTime}), or 0 when it finished without waiting. */
    private volatile long parkedAtNanos;

    /** What kind of request waits ({@code read}, {@code pull}), for the wait metrics. */
    protected String kind() {
      return "other";
    }

    /** True when the request can be answered now. Must be cheap and must not block. */
    protected abstract boolean ready();

    /** Answers the request because it became ready. */
    protected abstract void onReady();

    /** Answers the request because its deadline passed. */
    protected abstract void onTimeout();

    final boolean finish(boolean ready) {
      if (!done.compareAndSet(false, true)) return false;
      if (ready) onReady(); else onTimeout();
      return true;
    }

    final boolean isDone() {
      return done.get();
    }
  }

  private final Set<Waiter> parked = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService timer;
  private final Executor executor;
  private final int maxParked;
  private final AtomicBoolean checkQueued = new AtomicBoolean();
  private final Map<String, AtomicInteger> parkedByKind = new ConcurrentHashMap<>();
  private final Metrics.Counter waits;
  private final Metrics.Histogram waitSeconds;

  public Waiters(ScheduledExecutorService timer, Executor executor, int maxParked) {
    this(timer, executor, maxParked, new Metrics());
  }

  public Waiters(ScheduledExecutorService timer, Executor executor, int maxParked, Metrics metrics) {
    this.timer = timer;
    this.executor = executor;
    this.maxParked = maxParked;
    this.waits = metrics.counter("causalkv_waits_total",
        "Requests that had to wait (parked), by kind and by how the wait ended (ready, timeout)", "kind", "outcome");
    this.waitSeconds = metrics.histogram("causalkv_wait_duration_seconds",
        "How long parked requests waited, by kind and outcome", Metrics.LATENCY_SECONDS, "kind", "outcome");
    metrics.gauges("causalkv_parked_requests", "Requests parked right now, by kind", "kind", () -> {
      Map<String, Integer> out = new java.util.TreeMap<>();
      parkedByKind.forEach((k, n) -> out.put(k, n.get()));
      return out;
    });
  }

  /** Finishes {@code w} now if ready, else parks it for at most {@code timeoutMillis}. */
  public void park(Waiter w, long timeoutMillis) {
    if (w.ready()) {
      w.finish(true);
      return;
    }
    if (timeoutMillis <= 0 || parked.size() >= maxParked) {
      w.finish(false);
      return;
    }
    w.parkedAtNanos = System.nanoTime();
    parkedByKind.computeIfAbsent(w.kind(), k -> new AtomicInteger()).incrementAndGet();
    parked.add(w);
    timer.schedule(() -> {
      parked.remove(w);
      finish(w, false);
    }, timeoutMillis, TimeUnit.MILLISECONDS);
    // A change may have landed between the first check and parking; check once more.
    if (w.ready() && finish(w, true)) parked.remove(w);
  }

  /** Finishes a parked waiter once, and records how long it waited. */
  private boolean finish(Waiter w, boolean ready) {
    if (!w.finish(ready)) return false;
    String outcome = ready ? "ready" : "timeout";
    waits.inc(w.kind(), outcome);
    waitSeconds.observeNanos(System.nanoTime() - w.parkedAtNanos, w.kind(), outcome);
    parkedByKind.get(w.kind()).decrementAndGet();
    return true;
  }

  /** Called after every state change: re-checks the parked requests once, off the caller's thread. */
  public void signal() {
    if (parked.isEmpty() || !checkQueued.compareAndSet(false, true)) return;
    executor.execute(() -> {
      checkQueued.set(false);
      for (Waiter w : parked) {
        if (w.isDone()) {
          parked.remove(w);
        } else if (safeReady(w)) {
          parked.remove(w);
          finish(w, true);
        }
      }
    });
  }

  private static boolean safeReady(Waiter w) {
    try {
      return w.ready();
    } catch (RuntimeException e) {
      return true; // let onReady produce the error answer rather than parking forever
    }
  }

  /** Answers every parked request as if its deadline had passed: a definite answer before shutdown. */
  public void expireAll() {
    for (Waiter w : parked) {
      parked.remove(w);
      finish(w, false);
    }
  }

  public int parkedCount() {
    return parked.size();
  }
}
