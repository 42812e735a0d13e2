package dev.causalkv.sim;

import java.util.PriorityQueue;

/**
 * Simulated time for the whole cluster: a queue of actions ordered by (time, insertion order),
 * run one at a time in one thread, so a seed fixes every interleaving.
 */
final class EventLoop {

  private record Event(long atMillis, long order, Runnable action) {}

  private final PriorityQueue<Event> queue =
      new PriorityQueue<>((a, b) -> a.atMillis != b.atMillis ? Long.compare(a.atMillis, b.atMillis) : Long.compare(a.order, b.order));
  private long nowMillis;
  private long order;
  private long executed;

  long nowMillis() {
    return nowMillis;
  }

  long executed() {
    return executed;
  }

  void after(long delayMillis, Runnable action) {
    at(nowMillis + Math.max(0, delayMillis), action);
  }

  void at(long atMillis, Runnable action) {
    queue.add(new Event(Math.max(atMillis, nowMillis), order++, action));
  }

  /** Runs events until simulated time passes {@code untilMillis} or {@code stop} says so. */
  void runUntil(long untilMillis, java.util.function.BooleanSupplier stop) {
    while (!queue.isEmpty() && queue.peek().atMillis <= untilMillis) {
      Event e = queue.poll();
      nowMillis = e.atMillis;
      e.action.run();
      executed++;
      if (stop.getAsBoolean()) return;
    }
    nowMillis = Math.max(nowMillis, untilMillis);
  }
}
