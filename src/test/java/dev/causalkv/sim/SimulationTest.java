package dev.causalkv.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import dev.causalkv.protocol.PlantedBug;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The deterministic simulation (docs/design.md §10, depth 2): many seeds, each a whole cluster run
 * under faults, checked for causal anomalies and convergence.
 *
 * <p>{@code -Dsim.seeds=N} runs N seeds (default 300) starting at {@code -Dsim.firstSeed} (default
 * 1); {@code -Dsim.seed=S} replays one seed and prints its history.
 */
class SimulationTest {

  @Test
  void seededRunsShowNoAnomaly() {
    Long one = Long.getLong("sim.seed");
    long first = one != null ? one : Long.getLong("sim.firstSeed", 1L);
    int count = one != null ? 1 : Integer.getInteger("sim.seeds", 300);
    List<Simulation.Result> failed = new ArrayList<>();
    long ops = 0, writes = 0, outOfDate = 0, events = 0, simMillis = 0, maxConverge = 0, sumConverge = 0;
    long slowestSeed = -1;
    long gcKeys = 0;
    long t0 = System.nanoTime();
    for (long seed = first; seed < first + count; seed++) {
      SimConfig cfg = SimConfig.random(seed, EnumSet.noneOf(PlantedBug.class));
      Simulation sim = new Simulation(seed, cfg);
      Simulation.Result r = sim.run();
      ops += r.ops();
      writes += r.writes();
      outOfDate += r.outOfDate();
      events += r.events();
      simMillis += r.simMillis();
      sumConverge += r.convergeMillis();
      gcKeys += r.gcKeys();
      if (r.convergeMillis() > maxConverge) {
        maxConverge = r.convergeMillis();
        slowestSeed = seed;
      }
      if (Boolean.getBoolean("sim.stats")) {
        System.out.printf("stats seed=%d nodes=%d hold=%d crashes=%d membership=%b loss=%.2f trunc=%.2f converge=%d%n", seed, cfg.nodes(),
            cfg.holdMillis(), cfg.crashes(), cfg.membership(), cfg.lossRate(), cfg.truncateRate(), r.convergeMillis());
      }
      if (one != null) System.out.println(r.report() + "\nfull history:\n" + sim.fullHistory());
      if (!r.ok()) {
        failed.add(r);
        if (failed.size() <= 3) System.out.println(r.report());
      }
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    System.out.printf("simulation: %d seeds from %d, %d client ops (%d writes, %d out of date), %d tombstoned keys collected, %d events, %d s simulated, %d ms wall;"
            + " convergence after healing: mean %d ms, max %d ms (seed %d); %d failing seeds%n",
        count, first, ops, writes, outOfDate, gcKeys, events, simMillis / 1000, ms, sumConverge / count, maxConverge, slowestSeed, failed.size());
    assertTrue(ops > 0, "the simulation ran no operation");
    if (!failed.isEmpty()) {
      fail(failed.size() + " of " + count + " seeds show anomalies; failing seeds "
          + failed.stream().map(Simulation.Result::seed).limit(50).toList() + "\nfirst: " + failed.get(0).report());
    }
  }
}
