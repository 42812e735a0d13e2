package dev.causalkv.protocol;

import java.util.PriorityQueue;

/**
 * The core's timers, in simulated or real time alike: actions due at a time, run by the step that
 * handles the first {@link Event.Tick} at or after it. Ordered by (time, insertion), so runs are
 * deterministic. An action whose reason is gone (a request already answered) does nothing.
 */
final class Deadlines {

  private record Due(long atMillis, long order, Runnable action) {}

  private final PriorityQueue<Due> queue = new PriorityQueue<>(
      (a, b) -> a.atMillis != b.atMillis ? Long.compare(a.atMillis, b.atMillis) : Long.compare(a.order, b.order));
  private long order;

  void at(long atMillis, Runnable action) {
    queue.add(new Due(atMillis, order++, action));
  }

  /** Runs every action due at {@code nowMillis}, including those they schedule for then. */
  void runDue(long nowMillis) {
    while (!queue.isEmpty() && queue.peek().atMillis <= nowMillis) queue.poll().action.run();
  }

  /** The time of the earliest action, or {@link Long#MAX_VALUE}. */
  long next() {
    return queue.isEmpty() ? Long.MAX_VALUE : queue.peek().atMillis;
  }

  int size() {
    return queue.size();
  }
}
