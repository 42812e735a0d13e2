package dev.causalkv.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.causalkv.protocol.PlantedBug;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The checker must be able to fail: with a bug planted in the driver or the read path, the same
 * seeded simulation has to report anomalies of the kind the bug causes, within a few seeds.
 */
class PlantedBugsTest {

  static final int MAX_SEEDS = 200;
  static final Set<String> STALE_READ = Set.of("read-your-writes", "monotonic reads", "causal read (writes-follow-reads / transitive)");

  @ParameterizedTest
  @EnumSource(PlantedBug.class)
  void checkerCatchesPlantedBug(PlantedBug bug) {
    Set<String> expected = switch (bug) {
      case MARKS_BEFORE_VERSIONS, ONE_VERSION_PER_ORIGIN, READS_NEVER_WAIT -> STALE_READ;
      case PAYLOAD_WITH_APPLIED -> Set.of("payload not causally closed", "payload beyond the causal past");
      case SKIP_RECONCILE -> Set.of("deleted key came back", "no convergence", "wrong siblings", "lost write");
    };
    // the re-admission bug needs runs that remove a node and add it back
    String membership = System.getProperty("sim.membership");
    if (bug == PlantedBug.SKIP_RECONCILE) System.setProperty("sim.membership", "REMOVE_READD");
    Map<String, Integer> rules = new TreeMap<>();
    long caughtAt = -1;
    for (long seed = 1; seed <= MAX_SEEDS && caughtAt < 0; seed++) {
      Simulation.Result r = Simulation.run(seed, SimConfig.random(seed, EnumSet.of(bug)));
      for (CausalChecker.Anomaly a : r.anomalies()) {
        rules.merge(a.rule(), 1, Integer::sum);
        if (expected.contains(a.rule())) caughtAt = seed;
      }
      if (caughtAt == seed) System.out.println("planted " + bug + " caught at seed " + seed + ":\n" + r.report().lines().limit(4).reduce("", (x, y) -> x + y + "\n"));
    }
    if (membership == null) System.clearProperty("sim.membership");
    else System.setProperty("sim.membership", membership);
    System.out.printf("planted %s: caught at seed %d; anomalies seen %s%n", bug, caughtAt, rules);
    assertTrue(caughtAt > 0, "the checker did not notice " + bug + " in " + MAX_SEEDS + " seeds; saw " + rules);
  }
}
