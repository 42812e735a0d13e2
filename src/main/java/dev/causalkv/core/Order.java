package dev.causalkv.core;

/** The four honest answers to comparing two vector clocks (after Akka's VersionVector). */
public enum Order {
  /** This clock's history is strictly contained in the other's. */
  BEFORE,
  /** This clock's history strictly contains the other's. */
  AFTER,
  /** Both name exactly the same history. */
  SAME,
  /** Neither contains the other. */
  CONCURRENT
}
