package dev.causalkv.driver;

/** The wall clock the node stamps writes with; injected so tests and the simulation control it. */
@FunctionalInterface
public interface Clock {

  long nowMillis();

  /** The system clock shifted by {@code skewMillis} (the harness skews nodes to exercise the conflict rule). */
  static Clock system(long skewMillis) {
    return () -> System.currentTimeMillis() + skewMillis;
  }
}
