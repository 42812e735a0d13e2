package dev.causalkv.sim;

import dev.causalkv.core.NodeMeta;
import dev.causalkv.core.Replica;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.ViewState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One seeded run: a cluster of {@link SimNode}s on a {@link SimNetwork}, random client sessions
 * (each with its own payload) doing PUT/GET/search/DELETE against random nodes, faults (loss,
 * duplication, delay, truncated answers, partitions, clock skew and jumps, optionally the removal
 * of a node), then healing and quiescence, with every operation fed to a {@link CausalChecker}.
 * Everything random comes from the one seed, so {@code run(seed)} is a pure function of it.
 */
final class Simulation {

  /** The outcome of one run. */
  record Result(long seed, SimConfig cfg, List<CausalChecker.Anomaly> anomalies, int ops, int writes, int outOfDate,
      long events, long simMillis, long convergeMillis, long gcKeys, String report) {
    boolean ok() {
      return anomalies.isEmpty();
    }
  }

  /** One client operation as recorded, for failure reports. */
  static final class Op {
    final int id;
    final int session;
    final String node;
    final String kind;
    final String key;
    final long startMillis;
    final VectorClock payloadIn;
    long endMillis = -1;
    String outcome = "(pending)";

    Op(int id, int session, String node, String kind, String key, long startMillis, VectorClock payloadIn) {
      this.id = id;
      this.session = session;
      this.node = node;
      this.kind = kind;
      this.key = key;
      this.startMillis = startMillis;
      this.payloadIn = payloadIn;
    }

    @Override
    public String toString() {
      return "op#" + id + " s" + session + "@" + node + " [" + startMillis + ".." + endMillis + "ms] " + kind + " " + key
          + " P=" + payloadIn + " -> " + outcome;
    }
  }

  private static final long QUIESCENCE_LIMIT_MILLIS = 120_000;
  private static final long CHECK_EVERY_MILLIS = 50;

  final long seed;
  final SimConfig cfg;
  final SplittableRandom rnd;
  final EventLoop loop = new EventLoop();
  final SimNetwork net;
  private final Map<String, SimNode> nodes = new LinkedHashMap<>();
  private final CausalChecker checker;
  private final List<Op> ops = new ArrayList<>();
  private final List<String> events = new ArrayList<>();
  private final VectorClock[] payloads;
  private final int[] opsLeft;
  private final int[] valueCounters;
  private final String[] lastNode;
  private final TreeSet<String> leaving = new TreeSet<>();
  private final TreeSet<String> removed = new TreeSet<>();
  /** Started, but not yet added to the view by PUT /view: clients do not use it yet. */
  private final TreeSet<String> joining = new TreeSet<>();
  private final String joiner;
  private boolean active = true;
  private int pendingOps;
  private int outOfDate;
  private long gcKeys;
  private long ids;

  Simulation(long seed, SimConfig cfg) {
    this.seed = seed;
    this.cfg = cfg;
    this.rnd = new SplittableRandom(seed);
    this.net = new SimNetwork(loop, rnd, cfg);
    this.checker = new CausalChecker(cfg.sessions());
    payloads = new VectorClock[cfg.sessions()];
    opsLeft = new int[cfg.sessions()];
    valueCounters = new int[cfg.sessions()];
    lastNode = new String[cfg.sessions()];
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < cfg.nodes(); i++) ids.add("10.0.0." + (i + 2) + ":8080");
    // A joiner starts with VIEW = the old members and itself; the old members do not list it.
    joiner = cfg.join() ? ids.get(ids.size() - 1) : null;
    List<String> oldMembers = new ArrayList<>(ids);
    if (joiner != null) {
      oldMembers.remove(joiner);
      joining.add(joiner);
    }
    for (String id : ids) {
      long skew = cfg.maxSkewMillis() == 0 ? 0 : rnd.nextLong(-cfg.maxSkewMillis(), cfg.maxSkewMillis() + 1);
      nodes.put(id, new SimNode(this, id, id.equals(joiner) ? ids : oldMembers, skew));
    }
  }

  static Result run(long seed, SimConfig cfg) {
    return new Simulation(seed, cfg).run();
  }

  SimNode node(String id) {
    return nodes.get(id);
  }

  long nextId() {
    return ++ids;
  }

  private void event(String what) {
    events.add("[" + loop.nowMillis() + "ms] " + what);
  }

  Result run() {
    for (SimNode n : nodes.values()) n.start();
    for (int s = 0; s < cfg.sessions(); s++) {
      opsLeft[s] = cfg.opsPerSession();
      payloads[s] = VectorClock.EMPTY;
      final int session = s;
      loop.after(rnd.nextLong(200), () -> startOp(session));
    }
    scheduleFaults();
    for (SimNode n : nodes.values()) loop.after(rnd.nextLong(cfg.gcPeriodMillis()), () -> collectGarbage(n));
    loop.runUntil(cfg.activeMillis(), () -> false);
    active = false;
    net.heal();
    event("heal: partitions and message faults off");
    long healedAt = loop.nowMillis();
    long deadline = healedAt + QUIESCENCE_LIMIT_MILLIS;
    boolean[] converged = new boolean[1];
    while (loop.nowMillis() < deadline && !converged[0]) {
      loop.runUntil(loop.nowMillis() + CHECK_EVERY_MILLIS, () -> false);
      converged[0] = pendingOps == 0 && replicasAgree();
    }
    if (!converged[0]) {
      StringBuilder state = new StringBuilder();
      for (SimNode n : nodes.values()) {
        state.append("\n    ").append(n.id).append(removed.contains(n.id) ? " (removed)" : "").append(n.down ? " (down)" : "")
            .append(": members ").append(n.replica.members()).append(" view ").append(n.replica.view())
            .append(" applied ").append(n.replica.meta().applied()).append(" stable ").append(n.replica.stableVc())
            .append(" keys ").append(snapshot(n).values().stream().map(x -> x.versions().get(0).key() + "=" + x.versions().stream()
                .map(v -> v.dot() + (v.isTombstone() ? "<tomb>" : "") + v.vc()).toList()).toList());
      }
      checker.anomalies().add(new CausalChecker.Anomaly("no convergence",
          "replicas still differ (or ops pending: " + pendingOps + ") " + QUIESCENCE_LIMIT_MILLIS + "ms after healing:" + state, List.of()));
    } else {
      Map<String, TreeMap<String, Siblings>> state = new TreeMap<>();
      for (SimNode n : liveNodes()) state.put(n.id, snapshot(n));
      checker.converged(state);
    }
    return new Result(seed, cfg, checker.anomalies(), ops.size(), checker.writeCount(), outOfDate, loop.executed(),
        loop.nowMillis(), loop.nowMillis() - healedAt, gcKeys, report());
  }

  private List<SimNode> liveNodes() {
    List<SimNode> out = new ArrayList<>();
    for (SimNode n : nodes.values()) if (!removed.contains(n.id)) out.add(n);
    return out;
  }

  private static TreeMap<String, Siblings> snapshot(SimNode n) {
    TreeMap<String, Siblings> m = new TreeMap<>();
    try (Store.Scan scan = n.replica.scan()) {
      while (scan.hasNext()) {
        Siblings s = scan.next();
        m.put(s.versions().get(0).key(), s);
      }
    }
    return m;
  }

  private boolean replicasAgree() {
    TreeMap<String, Siblings> first = null;
    for (SimNode n : liveNodes()) {
      if (n.down) return false;
      TreeMap<String, Siblings> s = snapshot(n);
      if (first == null) first = s;
      else if (!first.equals(s)) return false;
    }
    return true;
  }

  /**
   * The driver's periodic tombstone GC (DESIGN.md §7), observed like a read: the keys whose
   * siblings vanish were collected, and the checker learns that the node's next own write
   * follows them (their vcs go into lastOwnVc).
   */
  private void collectGarbage(SimNode n) {
    loop.after(cfg.gcPeriodMillis(), () -> collectGarbage(n));
    if (n.down || removed.contains(n.id)) return;
    TreeMap<String, Siblings> before = snapshot(n);
    int dropped = n.replica.collectGarbage(1 + rnd.nextInt(4));
    if (dropped == 0) return;
    TreeMap<String, Siblings> after = snapshot(n);
    List<Siblings> collected = new ArrayList<>();
    for (Map.Entry<String, Siblings> e : before.entrySet()) {
      Siblings now = after.getOrDefault(e.getKey(), Siblings.EMPTY);
      if (!now.equals(e.getValue())) {
        if (!now.isEmpty()) {
          checker.anomalies().add(new CausalChecker.Anomaly("gc changed a key", n.id + " turned " + e.getValue() + " into " + now, List.of()));
        }
        collected.add(e.getValue());
      }
    }
    if (collected.size() != dropped) {
      checker.anomalies().add(new CausalChecker.Anomaly("gc count", n.id + " reported " + dropped + " keys dropped, saw " + collected.size(), List.of()));
    }
    checker.collected(n.id, n.replica.origin(), collected);
    gcKeys += collected.size();
    event(n.id + " collected " + collected.stream().map(x -> x.versions().get(0).key() + "@" + x.versions().stream().map(v -> v.dot().toString()).toList()).toList());
  }

  // ---------------------------------------------------------------- faults

  private void scheduleFaults() {
    List<String> ids = new ArrayList<>(nodes.keySet());
    if (cfg.meanPartitionMillis() > 0) {
      for (long t = rnd.nextLong(cfg.meanPartitionMillis()); t < cfg.activeMillis(); t += 1 + rnd.nextLong(2 * cfg.meanPartitionMillis())) {
        loop.at(t, () -> {
          List<String> live = new ArrayList<>(ids);
          live.removeAll(removed);
          net.repartition(live);
          event("partition: " + net.partitionName());
        });
      }
    }
    long jumps = Math.round(cfg.clockJumpRate() * cfg.activeMillis());
    for (long j = 0; j < jumps; j++) {
      long t = rnd.nextLong(cfg.activeMillis());
      String id = ids.get(rnd.nextInt(ids.size()));
      long delta = rnd.nextLong(-5_000, 5_001);
      loop.at(t, () -> {
        nodes.get(id).skewMillis += delta;
        event("clock of " + id + " jumps " + delta + "ms");
      });
    }
    for (int c = 0; c < cfg.crashes(); c++) {
      String id = ids.get(rnd.nextInt(ids.size()));
      long t = rnd.nextLong(cfg.activeMillis());
      long downMillis = 50 + rnd.nextLong(3_000);
      loop.at(t, () -> {
        SimNode n = nodes.get(id);
        if (n.down || removed.contains(id)) return;
        n.crash();
        event("crash of " + id + " for " + downMillis + "ms");
        loop.after(downMillis, () -> {
          n.restart();
          event("restart of " + id);
        });
      });
    }
    if (joiner != null) {
      loop.at(rnd.nextLong(cfg.activeMillis()), () -> tryAdd(joiner));
    }
    if (cfg.membership()) {
      List<String> candidates = new ArrayList<>(ids);
      candidates.remove(joiner);
      String victim = candidates.get(rnd.nextInt(candidates.size()));
      loop.at(rnd.nextLong(cfg.activeMillis() / 2), () -> {
        leaving.add(victim);
        event("removal of " + victim + " begins: no new client ops there");
        tryRemove(victim);
      });
    }
  }

  /** PUT /view joiner at a member that is up: record the add and push it to every member and the joiner. */
  private void tryAdd(String id) {
    List<String> up = new ArrayList<>();
    for (String m : nodes.keySet()) {
      if (!m.equals(id) && !nodes.get(m).down && !leaving.contains(m) && !joining.contains(m)) up.add(m);
    }
    if (up.isEmpty()) {
      loop.after(50, () -> tryAdd(id));
      return;
    }
    SimNode coord = nodes.get(up.get(rnd.nextInt(up.size())));
    if (coord.replica.members().contains(id)) { // already added (ViewCoordinator.add answers 404)
      joining.remove(id);
      return;
    }
    TreeSet<String> targets = new TreeSet<>(coord.replica.members()); // as ViewCoordinator.add: members and the new node
    ViewState next = coord.replica.changeView(id, true);
    targets.addAll(next.members());
    coord.reconcilePullers();
    joining.remove(id);
    event(coord.id + " added " + id + "; pushing view to " + targets);
    push(coord, targets, next);
  }

  private void push(SimNode coord, TreeSet<String> targets, ViewState view) {
    for (String m : targets) {
      if (!m.equals(coord.id) && nodes.containsKey(m)) net.send(coord.id, m, () -> nodes.get(m).onViewPush(coord.id, view));
    }
  }

  /**
   * DELETE /view victim at another member, once no client op is parked at the victim and the
   * coordinator can drain it (DESIGN.md §6), then the push of the new view to every member.
   */
  private void tryRemove(String victim) {
    if (!active) return;
    SimNode v = nodes.get(victim);
    List<String> members = new ArrayList<>(v.replica.members());
    members.remove(victim);
    members.removeIf(m -> nodes.get(m).down || joining.contains(m));
    if (members.isEmpty()) {
      loop.after(50, () -> tryRemove(victim));
      return;
    }
    SimNode coord = nodes.get(members.get(rnd.nextInt(members.size())));
    // DESIGN.md §6 skips the drain when the node is down. The writes it alone held would then be
    // lost by design, so the simulation skips it only when the coordinator already reflects every
    // write the victim made (what it may still lose is view changes only it knew of).
    NodeMeta vm = v.replica.meta();
    boolean skipDrain = v.down && coord.replica.meta().applied().get(vm.origin()) >= vm.ownSeq();
    boolean drained = !skipDrain && v.parkedOps.isEmpty() && coord.drain(victim);
    if (!skipDrain && !drained) {
      loop.after(50, () -> tryRemove(victim));
      return;
    }
    TreeSet<String> targets = new TreeSet<>(coord.replica.members()); // as ViewCoordinator.remove: the members before
    ViewState next = coord.replica.changeView(victim, false);
    removed.add(victim);
    event(coord.id + (skipDrain ? " removed " + victim + " (down: drain skipped, its writes were all here)" : " drained and removed " + victim) + "; pushing view");
    push(coord, targets, next);
  }

  // ---------------------------------------------------------------- clients

  private String pickNode(int session) {
    List<String> candidates = new ArrayList<>();
    for (String id : nodes.keySet()) {
      if (!leaving.contains(id) && !joining.contains(id) && !nodes.get(id).down) candidates.add(id);
    }
    if (candidates.isEmpty()) return null;
    if (lastNode[session] != null && candidates.contains(lastNode[session]) && rnd.nextDouble() >= cfg.hopRate()) {
      return lastNode[session];
    }
    return candidates.get(rnd.nextInt(candidates.size()));
  }

  private void next(int session) {
    loop.after(rnd.nextLong(150), () -> startOp(session));
  }

  private void startOp(int s) {
    if (!active || opsLeft[s] <= 0) return;
    String target = pickNode(s);
    if (target == null) { // every node is down: try again later
      next(s);
      return;
    }
    opsLeft[s]--;
    SimNode n = nodes.get(target);
    lastNode[s] = n.id;
    String key = "k" + rnd.nextInt(cfg.keys());
    int kind = rnd.nextInt(100);
    VectorClock p = payloads[s];
    Op op = new Op(ops.size(), s, n.id, kind < 35 ? "PUT" : kind < 70 ? "GET" : kind < 82 ? "SEARCH" : "DELETE", key, loop.nowMillis(), p);
    ops.add(op);
    if (!n.replica.isPlausible(p)) {
      checker.anomalies().add(new CausalChecker.Anomaly("honest payload refused",
          n.id + " calls the session's payload " + p + " implausible", List.of(op.id)));
      finish(op, "400 Payload is not valid");
      next(s);
      return;
    }
    if (op.kind.equals("PUT")) {
      String value = "s" + s + "-" + (++valueCounters[s]);
      write(op, n, value);
      next(s);
      return;
    }
    pendingOps++;
    long deadline = loop.nowMillis() + cfg.causalWaitMillis();
    SimNode.Parked attempt = new SimNode.Parked() {
      boolean done;

      @Override
      public boolean retry() {
        if (done) return true;
        Replica.Read r = read(n, key, p);
        if (!r.covered()) return false;
        done = true;
        coveredRead(op, n, r);
        return true;
      }

      @Override
      public void abort() {
        done = true;
        pendingOps--;
        finish(op, "connection reset: the node crashed (indefinite; the session keeps its payload)");
        next(s);
      }
    };
    if (attempt.retry()) return;
    n.parkedOps.add(attempt);
    loop.at(deadline, () -> {
      if (!n.parkedOps.remove(attempt)) return;
      // the wait is over: one last look, as the driver's timeout answer does
      Replica.Read r = read(n, key, p);
      if (r.covered()) {
        attempt.retry();
        return;
      }
      if (op.kind.equals("DELETE")) {
        pendingOps--;
        write(op, n, null);
        op.outcome = "(not covered after wait) " + op.outcome;
        next(s);
        return;
      }
      outOfDate++;
      pendingOps--;
      checker.read(op.id, s, n.id, key, r.siblings(), false, true, r.payload());
      payloads[s] = r.payload();
      finish(op, "400 Payload out of date, payload " + r.payload());
      next(s);
    });
  }

  /** Replica.read, with the planted bugs of the read path applied. */
  private Replica.Read read(SimNode n, String key, VectorClock p) {
    Replica.Read r = n.replica.read(key, p);
    if (cfg.bugs().contains(SimConfig.Bug.READS_NEVER_WAIT)) r = new Replica.Read(true, r.siblings(), r.payload());
    if (cfg.bugs().contains(SimConfig.Bug.PAYLOAD_WITH_APPLIED)) {
      r = new Replica.Read(r.covered(), r.siblings(), r.payload().merge(n.replica.meta().applied()));
    }
    return r;
  }

  private void coveredRead(Op op, SimNode n, Replica.Read r) {
    int s = op.session;
    pendingOps--;
    var visible = r.siblings().visible();
    boolean exists = visible != null && !visible.isTombstone();
    String sibs = r.siblings().versions().stream().map(v -> v.dot() + "=" + (v.value() == null ? "<tomb>" : v.value()) + "@" + v.ts()).toList().toString();
    if (op.kind.equals("DELETE")) {
      if (exists) {
        write(op, n, null);
      } else {
        checker.read(op.id, s, n.id, op.key, r.siblings(), true, false, op.payloadIn);
        finish(op, "404 Key does not exist, siblings " + sibs);
      }
    } else {
      checker.read(op.id, s, n.id, op.key, r.siblings(), true, true, r.payload());
      payloads[s] = r.payload();
      finish(op, (op.kind.equals("SEARCH") ? "200 isExists=" + exists : exists ? "200 '" + visible.value() + "'" : "404")
          + " siblings " + sibs + " payload " + r.payload());
    }
    next(s);
  }

  private void write(Op op, SimNode n, String value) {
    Siblings before = n.replica.read(op.key, VectorClock.EMPTY).siblings();
    Replica.Write w = n.replica.write(op.key, value, payloads[op.session], n.localNowMillis());
    checker.write(op.id, op.session, before, w.version());
    if (w.existedBefore() != before.exists()) { // replaced / 200 vs 201 come from the visible state before the write
      checker.anomalies().add(new CausalChecker.Anomaly("replaced flag", "write reported existedBefore=" + w.existedBefore()
          + " but the key's siblings before were " + before, List.of(op.id)));
    }
    payloads[op.session] = w.version().vc();
    finish(op, (value == null ? "200 Key deleted" : w.existedBefore() ? "201 Updated" : "200 Added") + " as " + w.version().dot()
        + " ts=" + w.version().ts() + " vc=" + w.version().vc());
  }

  private void finish(Op op, String outcome) {
    op.endMillis = loop.nowMillis();
    op.outcome = outcome;
  }

  // ---------------------------------------------------------------- reporting

  private String report() {
    StringBuilder sb = new StringBuilder();
    sb.append("seed ").append(seed).append(": ").append(cfg).append('\n');
    if (checker.anomalies().isEmpty()) return sb.append("no anomaly\n").toString();
    sb.append(checker.anomalies().size()).append(" anomalies; the first ones:\n");
    TreeSet<Integer> sessions = new TreeSet<>();
    TreeSet<Integer> involved = new TreeSet<>();
    for (CausalChecker.Anomaly a : checker.anomalies().subList(0, Math.min(5, checker.anomalies().size()))) {
      sb.append("  ").append(a).append('\n');
      for (int id : a.opIds()) {
        if (id < 0 || id >= ops.size()) continue;
        involved.add(id);
        sessions.add(ops.get(id).session);
      }
    }
    sb.append("operations involved:\n");
    for (int id : involved) sb.append("  ").append(ops.get(id)).append('\n');
    sb.append("history of the sessions involved ").append(sessions).append(":\n");
    for (Op o : ops) if (sessions.contains(o.session)) sb.append("  ").append(o).append('\n');
    sb.append("cluster events:\n");
    for (String e : events) sb.append("  ").append(e).append('\n');
    sb.append("replay: mvn -B -q test -Dtest=SimulationTest -Dsim.seed=").append(seed).append('\n');
    return sb.toString();
  }

  /** The full history, for replaying one seed by hand. */
  String fullHistory() {
    StringBuilder sb = new StringBuilder();
    for (Op o : ops) sb.append("  ").append(o).append('\n');
    for (String e : events) sb.append("  ").append(e).append('\n');
    return sb.toString();
  }
}
