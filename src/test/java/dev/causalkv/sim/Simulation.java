package dev.causalkv.sim;

import dev.causalkv.core.Dot;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.protocol.Event;
import dev.causalkv.protocol.Reply;
import dev.causalkv.storage.InMemoryStore;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One seeded run: a cluster of {@link SimNode}s (the production core and loop) on a
 * {@link SimNetwork}, random client sessions (each with its own payload) doing
 * PUT/GET/search/DELETE against random nodes, operators changing the view, and faults (loss,
 * duplication, delay, truncated answers, partitions, clock skew and jumps, crashes, disk faults,
 * overload), then healing and quiescence, with every operation fed to a {@link CausalChecker}.
 * Everything random comes from the one seed, so {@code run(seed)} is a pure function of it.
 */
final class Simulation {

  /** The outcome of one run. */
  record Result(long seed, SimConfig cfg, List<CausalChecker.Anomaly> anomalies, int ops, int writes, int outOfDate,
      long events, long simMillis, long convergeMillis, long gcKeys, int viewChanges, String report) {
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
  /** Nodes clients keep away from: being removed, removed (serving alone), or killed for good. */
  private final TreeSet<String> leaving = new TreeSet<>();
  /** Started, but not yet added to the view by PUT /view: clients do not use it yet. */
  private final TreeSet<String> joining = new TreeSet<>();
  private final TreeSet<String> deadForGood = new TreeSet<>();
  private final String joiner;
  private final Map<String, Long> counters = new TreeMap<>();
  private boolean active = true;
  private int pendingOps;
  private int pendingViewChanges;
  private int outOfDate;
  private long gcKeys;
  private int viewChanges;

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
      nodes.put(id, new SimNode(this, id, id.equals(joiner) ? ids : oldMembers, skew, disk()));
    }
  }

  static Result run(long seed, SimConfig cfg) {
    return new Simulation(seed, cfg).run();
  }

  /** A node's disk: the simulated one (written vs synced, with faults) when this run has disk faults, else the in-memory engine. */
  private Store disk() {
    if (cfg.meanSyncMillis() == 0) return InMemoryStore.create();
    return SimDisk.create(rnd, new SimDisk.Faults(cfg.writeFailRate(), cfg.syncFailRate()));
  }

  /** A node's process died: its disk keeps only what it had synced; the restarted process gets that. */
  Store diskCrashed(SimNode n, Store disk) {
    if (disk instanceof SimDisk d) {
      if (d.unsynced() > 0) event("crash of " + n.id + " loses " + d.unsynced() + " unsynced batches");
      return d.crash();
    }
    return disk;
  }

  /** A node's start failed on a disk fault: the process is started again shortly, like a restart policy would. */
  void startFailed(SimNode n) {
    event("start of " + n.id + " failed on its disk");
    loop.after(50 + rnd.nextLong(500), () -> {
      if (!deadForGood.contains(n.id)) n.retryStart();
    });
  }

  /** The disks' fsyncs, each at its own random pace. */
  private void syncDisks() {
    for (SimNode n : nodes.values()) {
      if (n.down || !(n.disk() instanceof SimDisk d) || d.failed()) continue;
      if (rnd.nextLong(cfg.meanSyncMillis() + 1) == 0 || rnd.nextInt(3) == 0) {
        if (!d.sync()) event("fsync failed at " + n.id);
      }
    }
    loop.after(1 + rnd.nextLong(cfg.meanSyncMillis()), this::syncDisks);
  }

  SimNode node(String id) {
    return nodes.get(id);
  }

  void counted(String name, long delta) {
    counters.merge(name, delta, Long::sum);
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
    loop.after(100, this::restartFailed);
    if (cfg.meanSyncMillis() > 0) loop.after(1, this::syncDisks);
    loop.runUntil(cfg.activeMillis(), () -> false);
    active = false;
    net.heal();
    event("heal: partitions and message faults off");
    long healedAt = loop.nowMillis();
    long deadline = healedAt + QUIESCENCE_LIMIT_MILLIS;
    List<SimNode> live = null;
    while (loop.nowMillis() < deadline && live == null) {
      loop.runUntil(loop.nowMillis() + CHECK_EVERY_MILLIS, () -> false);
      if (pendingOps == 0 && pendingViewChanges == 0) live = converged();
    }
    if (live == null) {
      StringBuilder state = new StringBuilder();
      for (SimNode n : nodes.values()) {
        if (!n.started()) {
          state.append("\n    ").append(n.id).append(" (never started: its disk failed)");
          continue;
        }
        state.append("\n    ").append(n.id).append(n.down ? " (down)" : "").append(leaving.contains(n.id) ? " (left)" : "")
            .append(": members ").append(n.core().members()).append(" view ").append(n.core().meta().view())
            .append(" applied ").append(n.core().meta().applied()).append(" notReady ").append(n.core().notReady())
            .append(" keys ").append(snapshot(n).values().stream().map(x -> x.versions().get(0).key() + "=" + x.versions().stream()
                .map(v -> v.dot() + (v.isTombstone() ? "<tomb>" : "") + v.vc()).toList()).toList());
      }
      checker.anomalies().add(new CausalChecker.Anomaly("no convergence", "replicas or views still differ (ops pending: "
          + pendingOps + ", view changes pending: " + pendingViewChanges + ") " + QUIESCENCE_LIMIT_MILLIS + "ms after healing:"
          + state, List.of()));
    } else {
      Map<String, TreeMap<String, Siblings>> state = new TreeMap<>();
      for (SimNode n : live) state.put(n.id, snapshot(n));
      checker.converged(state);
    }
    return new Result(seed, cfg, checker.anomalies(), ops.size(), checker.writeCount(), outOfDate, loop.executed(),
        loop.nowMillis(), loop.nowMillis() - healedAt, gcKeys, viewChanges, report());
  }

  /**
   * The members every node still in the cluster agrees on, if their views agree and so do their
   * replicas; else null. Nodes serving alone after their removal, and nodes killed for good, are
   * not in the cluster.
   */
  private List<SimNode> converged() {
    TreeSet<String> view = null;
    List<SimNode> live = new ArrayList<>();
    for (SimNode n : nodes.values()) {
      if (deadForGood.contains(n.id)) continue;
      if (n.down) return null;
      if (n.core().meta().view().isRemoved(n.id)) continue; // standalone
      TreeSet<String> v = new TreeSet<>(n.core().members());
      if (!v.contains(n.id)) continue;
      if (view == null) view = v;
      else if (!view.equals(v)) return null;
      live.add(n);
    }
    if (view == null) return null;
    for (String m : view) if (!deadForGood.contains(m) && live.stream().noneMatch(n -> n.id.equals(m))) return null;
    TreeMap<String, Siblings> first = null;
    for (SimNode n : live) {
      if (n.core().meta().mustReconcile()) return null;
      TreeMap<String, Siblings> s = snapshot(n);
      if (first == null) first = s;
      else if (!first.equals(s)) return null;
    }
    return live;
  }

  private static TreeMap<String, Siblings> snapshot(SimNode n) {
    TreeMap<String, Siblings> m = new TreeMap<>();
    try (Store.Scan scan = n.store().scan()) {
      while (scan.hasNext()) {
        Siblings s = scan.next();
        m.put(s.versions().get(0).key(), s);
      }
    }
    return m;
  }

  /** Tombstone GC at {@code n} dropped these keys (observed at its store): the checker learns that its next own write follows them. */
  void collected(SimNode n, String origin, List<Siblings> keys) {
    for (Siblings s : keys) {
      for (Version v : s.versions()) {
        if (!v.isTombstone()) {
          checker.anomalies().add(new CausalChecker.Anomaly("gc dropped a value", n.id + " dropped " + s, List.of()));
        }
      }
    }
    checker.collected(n.id, origin, keys);
    gcKeys += keys.size();
    event(n.id + " collected " + keys.stream().map(x -> x.versions().get(0).key() + "@" + x.versions().stream().map(v -> v.dot().toString()).toList()).toList());
  }

  /** A re-admitted node reconciled these versions away: each must be one that some write overwrote. */
  void reconciled(SimNode n, List<Version> dropped) {
    checker.reconciledAway(n.id, dropped);
    event(n.id + " reconciled away " + dropped.stream().map(v -> v.key() + "@" + v.dot()).toList());
  }

  /** Like a container's restart policy: a node whose storage failed (it stops serving) is restarted. */
  private void restartFailed() {
    loop.after(100, this::restartFailed);
    if (cfg.meanSyncMillis() > 0) loop.after(1, this::syncDisks);
    for (SimNode n : nodes.values()) {
      if (n.down || !n.core().isFailed()) continue;
      n.crash();
      event("storage failed at " + n.id + ": restarted");
      loop.after(50 + rnd.nextLong(500), n::restart);
    }
  }

  // ---------------------------------------------------------------- faults

  private void scheduleFaults() {
    List<String> ids = new ArrayList<>(nodes.keySet());
    if (cfg.meanPartitionMillis() > 0) {
      for (long t = rnd.nextLong(cfg.meanPartitionMillis()); t < cfg.activeMillis(); t += 1 + rnd.nextLong(2 * cfg.meanPartitionMillis())) {
        loop.at(t, () -> {
          net.repartition(ids);
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
        if (n.down || deadForGood.contains(id)) return;
        n.crash();
        event("crash of " + id + " for " + downMillis + "ms");
        loop.after(downMillis, () -> {
          if (deadForGood.contains(id) || !n.down) return;
          n.restart();
          event("restart of " + id);
        });
      });
    }
    List<String> candidates = new ArrayList<>(ids);
    candidates.remove(joiner);
    String victim = candidates.get(rnd.nextInt(candidates.size()));
    long at = rnd.nextLong(cfg.activeMillis() / 2);
    switch (cfg.membership()) {
      case NONE -> {
        if (joiner != null) loop.at(rnd.nextLong(cfg.activeMillis()), () -> tryAdd(joiner, null));
      }
      case REMOVE -> {
        if (joiner != null) loop.at(rnd.nextLong(cfg.activeMillis()), () -> tryAdd(joiner, null));
        loop.at(at, () -> beginRemoval(victim, false, null));
      }
      case SELF_REMOVE -> {
        if (joiner != null) loop.at(rnd.nextLong(cfg.activeMillis()), () -> tryAdd(joiner, null));
        loop.at(at, () -> beginRemoval(victim, true, null));
      }
      case REMOVE_DOWN -> {
        if (joiner != null) loop.at(rnd.nextLong(cfg.activeMillis()), () -> tryAdd(joiner, null));
        loop.at(at, () -> {
          SimNode v = nodes.get(victim);
          deadForGood.add(victim);
          leaving.add(victim);
          if (!v.down) v.crash();
          event("kill of " + victim + " for good");
          loop.after(rnd.nextLong(500), () -> tryRemove(victim, false, null));
        });
      }
      case REMOVE_READD -> {
        if (joiner != null) loop.at(rnd.nextLong(cfg.activeMillis()), () -> tryAdd(joiner, null));
        long away = 2 * cfg.gcPeriodMillis() + rnd.nextLong(2_000);
        loop.at(at, () -> beginRemoval(victim, false, () -> loop.after(away, () -> tryAdd(victim, () -> {
          leaving.remove(victim);
          event(victim + " is back: clients may use it again");
        }))));
      }
      case CONCURRENT -> loop.at(at, () -> {
        // the join and the removal sent to two different nodes at the same instant
        tryAdd(joiner, null);
        beginRemoval(victim, false, null);
      });
    }
  }

  private void beginRemoval(String victim, boolean self, Runnable after) {
    leaving.add(victim);
    event("removal of " + victim + " begins" + (self ? " (sent to itself)" : "") + ": no new client ops there");
    tryRemove(victim, self, after);
  }

  /** Members that an operator could send a view change to: up, and neither leaving nor joining. */
  private List<String> coordinators(String except) {
    List<String> up = new ArrayList<>();
    for (String m : nodes.keySet()) {
      SimNode n = nodes.get(m);
      if (!m.equals(except) && !n.down && !leaving.contains(m) && !joining.contains(m)) up.add(m);
    }
    return up;
  }

  /** PUT /view at a member, retried until some member answers that it is done (or already done). */
  private void tryAdd(String id, Runnable after) {
    List<String> up = coordinators(id);
    if (up.isEmpty()) {
      loop.after(50, () -> tryAdd(id, after));
      return;
    }
    SimNode coord = nodes.get(up.get(rnd.nextInt(up.size())));
    pendingViewChanges++;
    event("PUT /view " + id + " at " + coord.id);
    coord.viewChange(id, true, r -> {
      pendingViewChanges--;
      if (r instanceof Reply.ViewChange v) {
        viewChanges++;
        joining.remove(id);
        event(coord.id + (v.applied() ? " added " + id + "; acknowledged by " + v.acknowledged() + ", not by " + v.unreachable()
            : " already had " + id));
        if (after != null) after.run();
      } else {
        event(coord.id + " could not add " + id + ": " + r);
        loop.after(50, () -> tryAdd(id, after));
      }
    }, () -> {
      pendingViewChanges--;
      loop.after(50, () -> tryAdd(id, after));
    });
  }

  /**
   * DELETE /view victim, sent to another member (or to the victim itself), retried until some node
   * answers that it is done. A victim killed for good cannot be drained: what it alone held is
   * lost, and the answer must say so.
   */
  private void tryRemove(String victim, boolean self, Runnable after) {
    List<String> up = coordinators(victim);
    SimNode v = nodes.get(victim);
    SimNode coord = self && !v.down ? v : up.isEmpty() ? null : nodes.get(up.get(rnd.nextInt(up.size())));
    if (coord == null) {
      loop.after(50, () -> tryRemove(victim, self, after));
      return;
    }
    pendingViewChanges++;
    event("DELETE /view " + victim + " at " + coord.id);
    coord.viewChange(victim, false, r -> {
      pendingViewChanges--;
      if (r instanceof Reply.ViewChange vc) {
        viewChanges++;
        event(coord.id + (vc.applied() ? " removed " + victim + "; acknowledged by " + vc.acknowledged() + ", not by "
            + vc.unreachable() + (vc.warning() == null ? "" : "; warning: " + vc.warning()) : " no longer had " + victim));
        if (vc.applied()) forfeit(victim, vc, true, coord.core().meta().view());
        else if (coord.core().meta().view().isRemoved(victim)) forfeit(victim, vc, false, coord.core().meta().view()); // done by an attempt whose answer was lost
        if (after != null) after.run();
      } else {
        event(coord.id + " could not remove " + victim + ": " + r);
        loop.after(50, () -> tryRemove(victim, self, after));
      }
    }, () -> {
      pendingViewChanges--;
      loop.after(50, () -> tryRemove(victim, self, after));
    });
  }

  /**
   * The victim was removed: its writes that no remaining node reflects (it could not be drained:
   * killed, crashed or cut off) are lost by design, and the removal's answer must have said that
   * something might be.
   */
  private void forfeit(String victim, Reply.ViewChange answer, boolean mustWarn, dev.causalkv.core.ViewState view) {
    dev.causalkv.core.ViewState.Entry entry = view.entries().get(victim);
    VectorClock drained = entry == null || entry.present() ? VectorClock.EMPTY : entry.drained();
    Set<Dot> beyond = new HashSet<>();
    for (CausalChecker.Write w : checker.writes()) {
      if (w.dot().origin().startsWith(victim + "#") && w.dot().seq() > drained.get(w.dot().origin())) beyond.add(w.dot());
    }
    if (!beyond.isEmpty()) checker.excuseReads(beyond); // reads ignore them from the removal on, by design
    Map<String, Long> best = new TreeMap<>();
    for (SimNode n : nodes.values()) {
      if (n.id.equals(victim) || deadForGood.contains(n.id) || !n.started()) continue;
      for (Map.Entry<String, Long> e : n.core().meta().applied().asMap().entrySet()) best.merge(e.getKey(), e.getValue(), Math::max);
    }
    Set<Dot> lost = new HashSet<>();
    for (CausalChecker.Write w : checker.writes()) {
      String origin = w.dot().origin();
      if (!origin.startsWith(victim + "#") || checker.excused(w.dot())) continue;
      if (w.dot().seq() > best.getOrDefault(origin, 0L)) lost.add(w.dot());
    }
    if (!lost.isEmpty()) {
      event("writes only " + victim + " had, lost with it: " + lost);
      if (mustWarn && answer.warning() == null) {
        checker.anomalies().add(new CausalChecker.Anomaly("silent loss", "the removal of " + victim
            + " lost writes " + lost + " and its answer did not warn", List.of()));
      }
      checker.forfeit(lost);
    }
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
    Event.Op kindOp = kind < 35 ? Event.Op.PUT : kind < 70 ? Event.Op.GET : kind < 82 ? Event.Op.SEARCH : Event.Op.DELETE;
    VectorClock p = payloads[s];
    Op op = new Op(ops.size(), s, n.id, kindOp.name(), key, loop.nowMillis(), p);
    ops.add(op);
    String value = kindOp == Event.Op.PUT ? "s" + s + "-" + (++valueCounters[s]) : null;
    pendingOps++;
    n.clientOp(kindOp, key, value, p, r -> {
      pendingOps--;
      answered(op, n, r);
      next(s);
    }, () -> {
      pendingOps--;
      finish(op, "connection reset: the node crashed (indefinite; the session keeps its payload)");
      next(s);
    });
  }

  private void answered(Op op, SimNode n, Reply r) {
    int s = op.session;
    if (r instanceof Reply.Unavailable u) {
      finish(op, "503 " + u.reason());
      return;
    }
    Reply.Client c = (Reply.Client) r;
    Siblings sibs = c.siblings();
    String shown = sibs == null ? "" : " siblings " + sibs.versions().stream()
        .map(v -> v.dot() + "=" + (v.value() == null ? "<tomb>" : v.value()) + "@" + v.ts()).toList();
    switch (c.outcome()) {
      case ADDED, UPDATED, DELETED -> {
        checker.write(op.id, s, sibs, c.visible());
        if (c.exists() != sibs.exists()) { // replaced / 200 vs 201 come from the visible state before the write
          checker.anomalies().add(new CausalChecker.Anomaly("replaced flag", "write reported existedBefore=" + c.exists()
              + " but the key's siblings before were " + sibs, List.of(op.id)));
        }
        payloads[s] = c.payload();
        finish(op, c.outcome() + " as " + c.visible().dot() + " ts=" + c.visible().ts() + " vc=" + c.visible().vc());
      }
      case VALUE, SEARCHED -> {
        checker.read(op.id, s, n.id, op.key, sibs, true, true, c.payload(), removedDrained(n));
        payloads[s] = c.payload();
        finish(op, c.outcome() + (c.visible() != null ? " '" + c.visible().value() + "'" : " exists=" + c.exists()) + shown
            + " payload " + c.payload());
      }
      case NOT_FOUND -> {
        boolean delete = op.kind.equals("DELETE");
        checker.read(op.id, s, n.id, op.key, sibs, true, !delete, c.payload(), removedDrained(n));
        if (!delete) payloads[s] = c.payload();
        finish(op, "404" + shown + " payload " + c.payload());
      }
      case OUT_OF_DATE -> {
        outOfDate++;
        checker.read(op.id, s, n.id, op.key, sibs, false, true, c.payload(), removedDrained(n));
        payloads[s] = c.payload();
        finish(op, "400 Payload out of date" + shown + ", payload " + c.payload());
      }
      case INDEFINITE -> {
        checker.indefiniteWrite(op.id, s, sibs, c.visible());
        finish(op, "503 indefinite: storage failed while " + c.visible().dot() + " was being made durable");
      }
      case INVALID_PAYLOAD -> {
        checker.anomalies().add(new CausalChecker.Anomaly("honest payload refused",
            n.id + " refused the session's payload " + op.payloadIn + ": " + c.detail(), List.of(op.id)));
        finish(op, "400 Payload is not valid");
      }
    }
  }

  /** The removals {@code n} knows of when it answers, with their drained marks (what its reads may ignore). */
  private static Map<String, VectorClock> removedDrained(SimNode n) {
    Map<String, VectorClock> out = new TreeMap<>();
    for (Map.Entry<String, dev.causalkv.core.ViewState.Entry> e : n.core().meta().view().entries().entrySet()) {
      if (!e.getValue().present()) out.put(e.getKey(), e.getValue().drained());
    }
    return out;
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
    sb.append("counters: ").append(counters).append('\n');
    sb.append("replay: mvn -B -q test -Dtest=SimulationTest -Dsim.seed=").append(seed).append('\n');
    return sb.toString();
  }

  /** The full history, for replaying one seed by hand. */
  String fullHistory() {
    StringBuilder sb = new StringBuilder();
    for (Op o : ops) sb.append("  ").append(o).append('\n');
    for (String e : events) sb.append("  ").append(e).append('\n');
    sb.append("  counters: ").append(counters).append('\n');
    return sb.toString();
  }

  Map<String, Long> counters() {
    return counters;
  }
}
