package dev.causalkv.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The checker must be able to fail: with a bug planted in the driver or the read path, the same
 * seeded simulation has to report anomalies (and of the kind the bug causes).
 */
class PlantedBugsTest {

  static final int MAX_SEEDS = 200;

  @ParameterizedTest
  @EnumSource(SimConfig.Bug.class)
  void checkerCatchesPlantedBug(SimConfig.Bug bug) {
    Map<String, Integer> rules = new TreeMap<>();
    int failing = 0;
    long firstFailing = -1;
    for (long seed = 1; seed <= MAX_SEEDS; seed++) {
      Simulation.Result r = Simulation.run(seed, SimConfig.random(seed, EnumSet.of(bug)));
      if (!r.ok()) {
        failing++;
        if (firstFailing < 0) firstFailing = seed;
        for (CausalChecker.Anomaly a : r.anomalies()) rules.merge(a.rule(), 1, Integer::sum);
      }
    }
    System.out.printf("planted %s: %d of %d seeds fail (first %d); rules %s%n", bug, failing, MAX_SEEDS, firstFailing, rules);
    assertTrue(failing > 0, "the checker did not notice " + bug);
    switch (bug) {
      case MARKS_BEFORE_VERSIONS, ONE_VERSION_PER_ORIGIN, READS_NEVER_WAIT ->
          assertTrue(rules.keySet().stream().anyMatch(k -> k.startsWith("read-your-writes") || k.startsWith("monotonic") || k.startsWith("causal")),
              "expected a stale read, got " + rules);
      case PAYLOAD_WITH_APPLIED -> assertTrue(rules.containsKey("payload not causally closed"), "got " + rules);
    }
  }
}
