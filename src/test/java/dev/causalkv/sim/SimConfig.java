package dev.causalkv.sim;

import java.util.EnumSet;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The knobs of one simulated run, all drawn from the seed: cluster size, client load, and the
 * named faults of the network and the clocks (FoundationDB style).
 */
record SimConfig(
    int nodes,
    int sessions,
    int opsPerSession,
    int keys,
    long activeMillis,
    double lossRate,
    double duplicateRate,
    double truncateRate,
    long minDelayMillis,
    long maxDelayMillis,
    double slowRate,
    long slowDelayMillis,
    long meanPartitionMillis,
    long maxSkewMillis,
    double clockJumpRate,
    double hopRate,
    long causalWaitMillis,
    long holdMillis,
    int crashes,
    boolean membership,
    boolean join,
    long gcPeriodMillis,
    Set<Bug> bugs) {

  /** Deliberately planted faults, to show the checker can fail (never set in the real runs). */
  enum Bug {
    /** The puller raises the marks an answer announces before it has merged the versions, so broken-off answers raise them too. */
    MARKS_BEFORE_VERSIONS,
    /** Reads never wait: every payload is treated as covered. */
    READS_NEVER_WAIT,
    /** Read answers merge the node's applied VC into the payload (DESIGN.md §4 forbids it). */
    PAYLOAD_WITH_APPLIED,
    /** The server answers pulls with at most one version per origin (a per-origin, truncated delta) but full marks. */
    ONE_VERSION_PER_ORIGIN
  }

  /** Whether the run removes a node: {@code -Dsim.membership=always|never}, else one run in three. */
  private static boolean membership(SplittableRandom r) {
    boolean coin = r.nextInt(3) == 0;
    return switch (System.getProperty("sim.membership", "random")) {
      case "always" -> true;
      case "never" -> false;
      default -> coin;
    };
  }

  static SimConfig random(long seed, Set<Bug> bugs) {
    SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
    int nodes = 3 + r.nextInt(3);
    return new SimConfig(
        nodes,
        2 + r.nextInt(5),
        10 + r.nextInt(30),
        2 + r.nextInt(5),
        2_000 + r.nextInt(6_000),
        r.nextDouble() * 0.3,
        r.nextDouble() * 0.2,
        r.nextDouble() * 0.3,
        1,
        5 + r.nextInt(100),
        r.nextDouble() * 0.1,
        200 + r.nextInt(2_000),
        200 + r.nextInt(2_000),
        r.nextInt(3) == 0 ? 0 : r.nextInt(3_000),
        r.nextDouble() * 0.002,
        r.nextDouble(),
        1_000,
        r.nextInt(8) == 0 ? 15_000 : 100 + r.nextInt(1_000),
        r.nextInt(3) == 0 ? 1 + r.nextInt(3) : 0,
        membership(r),
        r.nextInt(3) == 0,
        100 + r.nextInt(1_000),
        bugs.isEmpty() ? EnumSet.noneOf(Bug.class) : EnumSet.copyOf(bugs));
  }
}
