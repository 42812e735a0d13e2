/**
 * The deterministic simulation of docs/design.md §10 (depth 2), FoundationDB / TigerBeetle style.
 *
 * <p>{@link dev.causalkv.sim.Simulation} runs 3–5 real {@code Replica}s in one thread on an
 * {@link dev.causalkv.sim.EventLoop} (simulated time), joined by a {@link dev.causalkv.sim.SimNetwork}
 * that loses, duplicates, delays, reorders, truncates streamed pull answers and partitions
 * (halves, an isolated node, a partial A–C cut). {@link dev.causalkv.sim.SimNode} drives each
 * replica as the production driver does (long-poll pulls of the complete delta, marks raised only
 * after a whole answer; held pulls; backoff with jitter; view pushes and drains), and adds clock
 * skew and jumps, crash/restart over the durable store, a node joining and a node being removed.
 * Client sessions (each with its own payload) PUT/GET/search/DELETE at random nodes; reads whose
 * payload is not covered wait up to {@code causalWaitMillis} of simulated time, then answer
 * "Payload out of date". After healing, the run waits for quiescence.
 *
 * <p>{@link dev.causalkv.sim.CausalChecker}, outside the system under test, builds happens-before
 * from session order, reads-from, overwrites and origin order, and checks every read (read your
 * writes, monotonic reads, writes follow reads, no older value or hiding 404), every payload
 * (exactly the session's causal past, causally closed), every write's vc, and, after convergence,
 * identical siblings everywhere equal to the maximal writes (no acknowledged write lost).
 * {@link dev.causalkv.sim.PlantedBugsTest} shows it fails when a bug is planted.
 *
 * <p>Commands (in the repository root):
 *
 * <pre>
 * mvn -B -q test -Dtest='SimulationTest'                       # 300 seeds (the default in mvn verify)
 * mvn -B -q test -Dtest='SimulationTest' -Dsim.seeds=10000     # more seeds (-Dsim.firstSeed=N to shift)
 * mvn -B -q test -Dtest='SimulationTest' -Dsim.seed=123        # replay one seed, print its history
 * mvn -B -q test -Dtest='SimulationTest' -Dsim.membership=always   # every run removes a node (or: never)
 * mvn -B -q test -Dtest='SimulationTest' -Dsim.stats=true      # one line of knobs + convergence time per seed
 * </pre>
 */
package dev.causalkv.sim;
