package dev.causalkv.sim;

import dev.causalkv.protocol.PlantedBug;
import java.util.EnumSet;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The knobs of one simulated run, all drawn from the seed: cluster size, client load, the named
 * faults of the network, the clocks and the disks (FoundationDB style), and the membership
 * scenario the run plays.
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
    Membership membership,
    boolean join,
    long gcPeriodMillis,
    int maxParked,
    double writeFailRate,
    double syncFailRate,
    long meanSyncMillis,
    Set<PlantedBug> bugs) {

  /** The view changes a run makes, besides an optional join. */
  enum Membership {
    /** No removal. */
    NONE,
    /** DELETE /view of a node, sent to another member. */
    REMOVE,
    /** DELETE /view of a node, sent to that node itself. */
    SELF_REMOVE,
    /** A node is killed for good, then removed. */
    REMOVE_DOWN,
    /** A node is removed, deletes are made and collected, then it is added back. */
    REMOVE_READD,
    /** A removal and the join sent to two different nodes at the same instant. */
    CONCURRENT
  }

  /** The scenario: {@code -Dsim.membership=NAME} (or always/never), else drawn from the seed. */
  private static Membership membership(SplittableRandom r) {
    Membership drawn = r.nextInt(3) == 0 ? Membership.NONE : Membership.values()[1 + r.nextInt(Membership.values().length - 1)];
    String p = System.getProperty("sim.membership", "random");
    return switch (p) {
      case "random" -> drawn;
      case "never" -> Membership.NONE;
      case "always" -> drawn == Membership.NONE ? Membership.REMOVE : drawn;
      default -> Membership.valueOf(p.toUpperCase(java.util.Locale.ROOT));
    };
  }

  static SimConfig random(long seed, Set<PlantedBug> bugs) {
    SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
    int nodes = 3 + r.nextInt(3);
    boolean diskFaults = !Boolean.getBoolean("sim.noDiskFaults") && r.nextInt(4) == 0;
    Membership m = membership(r);
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
        m,
        m == Membership.CONCURRENT || r.nextInt(3) == 0,
        100 + r.nextInt(1_000),
        r.nextInt(4) == 0 ? 1 + r.nextInt(3) : 20_000, // overload: a tiny limit on parked reads sheds load
        diskFaults ? r.nextDouble() * 0.01 : 0,
        diskFaults ? r.nextDouble() * 0.01 : 0,
        diskFaults ? 1 + r.nextInt(20) : 0,
        bugs.isEmpty() ? EnumSet.noneOf(PlantedBug.class) : EnumSet.copyOf(bugs));
  }
}
