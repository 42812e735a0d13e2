package dev.causalkv.protocol;

import dev.causalkv.core.Batch;
import dev.causalkv.core.Dot;
import dev.causalkv.core.NodeMeta;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.core.ViewState;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * The replication protocol of one node as a deterministic state machine, in the shape of
 * etcd-io/raft: the driver feeds it one {@link Event} at a time with the time, and gets back a
 * {@link Ready} saying what to persist, what to answer, which pulls and pushes to send, and when
 * to wake it; it persists, calls {@link #advance}, and carries the rest out. Every protocol
 * decision lives here (docs/design.md): client-op rules ({@link ClientOps}), pull serving and the
 * own-write log ({@link PullServer}, {@link OwnLog}), the puller's policy ({@link Pullers}),
 * stability and garbage collection ({@link Stability}), view changes ({@link ViewChanges}). It
 * opens no socket, starts no thread and reads no clock; the production driver and the simulation
 * drive the same code.
 *
 * <p>Not thread-safe: the driver serialises {@link #step} and {@link #advance}. {@link #tryRead}
 * and the inspection methods may be called from any thread.
 *
 * <p>Longer than our usual bound: it is the one place every event is routed and the parts
 * composed, and most of its lines are that routing table and the accessors the parts share.
 */
public final class NodeCore {

  /** The longest a peer's pull is held, whatever it asks. */
  public static final long MAX_HOLD_MILLIS = PullServer.MAX_HOLD_MILLIS;

  /** The knobs of the protocol. */
  public record Config(
      String nodeId,
      List<String> initialView,
      long causalWaitMillis,
      long holdMillis,
      long ackMillis,
      int maxParked,
      long gcPeriodMillis,
      int gcStepKeys,
      long seed,
      Set<PlantedBug> bugs,
      boolean causalOff) {

    public Config {
      Objects.requireNonNull(nodeId, "nodeId");
      initialView = List.copyOf(initialView);
      bugs = Set.copyOf(bugs);
    }

    public Config(String nodeId, List<String> initialView, long causalWaitMillis, long holdMillis, long ackMillis, int maxParked,
        long gcPeriodMillis, int gcStepKeys, long seed, Set<PlantedBug> bugs) {
      this(nodeId, initialView, causalWaitMillis, holdMillis, ackMillis, maxParked, gcPeriodMillis, gcStepKeys, seed, bugs, false);
    }

    /**
     * A BENCHMARK BASELINE ONLY, never a way to run the store (docs/design.md §8): every read counts
     * as covered and no payload is checked for plausibility, so reads never wait and causal
     * consistency is NOT kept. The same code otherwise, so that causal overhead is a ratio to it.
     */
    public Config withCausalOff(boolean off) {
      return new Config(nodeId, initialView, causalWaitMillis, holdMillis, ackMillis, maxParked, gcPeriodMillis, gcStepKeys, seed,
          bugs, off);
    }

    /** Production defaults for {@code nodeId} with initial view {@code view}. */
    public static Config defaults(String nodeId, List<String> view) {
      return new Config(nodeId, view, 1000, 5000, 2000, 20_000, 1000, 1000, System.nanoTime(), Set.of());
    }

    public Config withTimes(long causalWaitMillis, long holdMillis) {
      return new Config(nodeId, initialView, causalWaitMillis, holdMillis, ackMillis, maxParked, gcPeriodMillis, gcStepKeys,
          seed, bugs, causalOff);
    }
  }

  /** Where the core's counters go (the driver's metrics); names are dotted, e.g. {@code pull.failed}. */
  @FunctionalInterface
  public interface Counter {
    void add(String name, long delta);

    /**
     * One observation of a distribution; the name ends in its unit, e.g.
     * {@code wait.read.ready_millis}: how long a parked read waited (on the core's clock) before it
     * was answered. Ignored unless the driver keeps distributions.
     */
    default void observe(String name, double value) {}
  }

  private final Config config;
  private final Replica replica;
  private final Counter counter;
  private final Deadlines deadlines = new Deadlines();
  private final SplittableRandom random;
  private final Stability stability;
  private final ClientOps clientOps;
  private final PullServer pullServer;
  private final Pullers pullers;
  private final ViewChanges viewChanges;

  private volatile String failure;
  private volatile String notReady = "starting";
  private volatile int parked;
  private volatile int heldPulls;
  private volatile List<PeerStatus> peerStatus = List.of();
  private long now;
  private long ids;
  private List<Reply> replies = new ArrayList<>();
  private List<Send> sends = new ArrayList<>();
  private List<Long> cancels = new ArrayList<>();
  private VectorClock appliedMark;
  private ViewState viewMark;
  private boolean reconcileMark;
  private boolean admittedMark;
  private long nextGcAtMillis;

  private NodeCore(Config config, Replica replica, Counter counter) {
    this.config = config;
    this.replica = replica;
    this.counter = counter == null ? (n, d) -> {} : counter;
    this.random = new SplittableRandom(config.seed());
    this.stability = new Stability(config.nodeId());
    this.clientOps = new ClientOps(this);
    this.pullServer = new PullServer(this);
    this.pullers = new Pullers(this);
    this.viewChanges = new ViewChanges(this);
    this.appliedMark = replica.meta().applied();
    this.viewMark = replica.meta().view();
    this.reconcileMark = replica.meta().mustReconcile();
    pullers.reconcile(pullFrom());
  }

  /**
   * Whom to pull from: the peers in the view; and, until some member has admitted this node, also
   * every node of its configured {@code VIEW}, removed ones included: a recorded change adding it
   * may be held only by a node that was removed before it could push it, and a refusal from that
   * node carries its view, so the change is learnt from it (docs/design.md §6).
   */
  private List<String> pullFrom() {
    List<String> peers = new ArrayList<>(Membership.peers(replica.meta().view(), config.nodeId()));
    if (!pullers.admittedOnce() && !replica.meta().view().isRemoved(config.nodeId())) {
      for (String m : config.initialView()) if (!m.equals(config.nodeId()) && !peers.contains(m)) peers.add(m);
    }
    return peers;
  }

  /**
   * Opens the node's core over {@code store}: recovers its state, or, for an empty store, starts
   * with a fresh origin from {@code freshIncarnation} so that no dot is ever reused.
   */
  public static NodeCore open(Store store, Config config, Supplier<String> freshIncarnation, Counter counter) {
    Replica r = Replica.open(store, config.nodeId(), config.initialView(), freshIncarnation,
        config.bugs().contains(PlantedBug.READS_NEVER_WAIT) || config.causalOff());
    if (config.bugs().contains(PlantedBug.SKIP_RECONCILE)) r.skipReconcile();
    return new NodeCore(config, r, counter);
  }

  // ---------------------------------------------------------------- the step

  /** Handles {@code event} at {@code nowMillis} (monotonic); see {@link Ready} for what the caller does next. */
  public Ready step(long nowMillis, Event event) {
    now = Math.max(now, nowMillis);
    replies = new ArrayList<>();
    sends = new ArrayList<>();
    cancels = new ArrayList<>();
    handle(event);
    settle();
    if (!isFailed()) pullers.poll();
    Batch batch = replica.take();
    if (isFailed()) batch = null; // nothing more is persisted after a storage failure
    parked = clientOps.parkedCount();
    heldPulls = pullServer.heldCount();
    List<PeerStatus> ps = pullers.snapshotIfChanged();
    if (ps != null) peerStatus = ps;
    notReady = readiness();
    return new Ready(batch, replies, sends, cancels, deadlines.next());
  }

  /**
   * The last {@link Ready}'s batch is persisted: lock-free readers may go by it, and the held
   * pulls that are due or have news are answered now, their deltas opened on the persisted state.
   * The driver sends these answers with the Ready's own replies.
   */
  public List<Reply> advance() {
    replica.publish();
    if (isFailed()) return List.of();
    return pullServer.answerDue();
  }

  private void handle(Event event) {
    if (event instanceof Event.ClientOp e) {
      clientOps.onOp(e);
    } else if (event instanceof Event.PullArrived e) {
      pullers.heardFrom(e.request().from());
      pullServer.onPull(e);
    } else if (event instanceof Event.ViewPushArrived e) {
      if (isFailed()) reply(new Reply.Unavailable(e.id(), failure));
      else viewChanges.onPush(e);
    } else if (event instanceof Event.ViewChangeRequested e) {
      viewChanges.onRequest(e);
    } else if (event instanceof Event.AnswerBegan e) {
      if (isFailed() || !known(e.pullId())) return;
      replica.mergeView(e.view());
      pullers.onBegan(e.pullId(), e.marks(), e.view());
    } else if (event instanceof Event.AnswerVersions e) {
      if (isFailed()) return;
      // merging any part of any answer is safe; versions forging this node's own origin are refused
      count("pull.versions_refused", replica.merge(e.versions()));
      count("pull.versions_received", e.versions().size());
      pullers.onVersions(e.pullId(), e.versions());
      viewChanges.onDrainVersions(e.pullId(), e.versions().size());
    } else if (event instanceof Event.AnswerEnded e) {
      if (isFailed()) return;
      if (pullers.owns(e.pullId())) pullers.onEnded(e.pullId(), e.marks(), e.peerApplied(), e.count());
      else if (viewChanges.ownsDrain(e.pullId())) viewChanges.onDrainEnded(e.pullId(), e.marks(), e.count());
    } else if (event instanceof Event.PullFailed e) {
      if (pullers.owns(e.pullId())) pullers.onFailed(e.pullId());
      else if (viewChanges.ownsDrain(e.pullId())) viewChanges.onDrainFailed(e.pullId());
    } else if (event instanceof Event.PullRefused e) {
      if (!isFailed() && known(e.pullId())) replica.mergeView(e.view());
      if (pullers.owns(e.pullId())) pullers.onRefused(e.pullId());
      else if (viewChanges.ownsDrain(e.pullId())) viewChanges.onDrainFailed(e.pullId());
    } else if (event instanceof Event.PushAnswered e) {
      viewChanges.onPushAnswered(e);
    } else if (event instanceof Event.ForwardAnswered e) {
      viewChanges.onForwardAnswered(e);
    } else if (event instanceof Event.Tick) {
      tick();
    } else if (event instanceof Event.StorageFailed e) {
      storageFailed(e);
    } else if (event instanceof Event.Shutdown) {
      clientOps.expireAll();
      pullServer.releaseAll(false);
      pullers.reconcile(List.of());
    } else {
      throw new IllegalArgumentException("unknown event " + event);
    }
  }

  private boolean known(long pullId) {
    return pullers.owns(pullId) || viewChanges.ownsDrain(pullId);
  }

  private void tick() {
    if (!isFailed() && now >= nextGcAtMillis) {
      nextGcAtMillis = now + config.gcPeriodMillis();
      deadlines.at(nextGcAtMillis, () -> {});
      Stability.Summary s = stability.summarize(replica.meta());
      if (s.ownLogFloor() >= 0) replica.ownLog().truncate(s.ownLogFloor());
      int dropped = stability.collect(replica, s.stable(), config.gcStepKeys());
      if (dropped > 0) count("gc.keys_dropped", dropped);
    }
    deadlines.runDue(now);
  }

  /**
   * Wakes what this step's changes can help, until nothing more changes (a woken DELETE writes):
   * parked reads of the keys touched and of the origins whose applied rose; on a view change,
   * every parked read, the pullers (start, stop, retry) and the fence.
   */
  private void settle() {
    while (true) {
      Set<String> keys = replica.drainTouched();
      VectorClock applied = replica.meta().applied();
      Set<String> raised = new LinkedHashSet<>();
      for (Map.Entry<String, Long> e : applied.asMap().entrySet()) {
        if (e.getValue() > appliedMark.get(e.getKey())) raised.add(e.getKey());
      }
      appliedMark = applied;
      raiseDrainedMarks();
      boolean viewChanged = checkView();
      if (keys.isEmpty() && raised.isEmpty() && !viewChanged) return;
      clientOps.wake(keys, raised, viewChanged);
    }
  }

  /**
   * A member holding more of a removed node's writes than its remover drained raises the removal's
   * drained marks (docs/design.md §6): other members' reads then wait for those writes, which reach
   * them from here, rather than ignoring writes that exist. A removed node raises nothing: what
   * only it holds is not in the members' data.
   */
  private void raiseDrainedMarks() {
    NodeMeta m = replica.meta();
    if (m.view().isRemoved(config.nodeId())) return;
    ViewState v = m.view();
    for (Map.Entry<String, ViewState.Entry> e : m.view().entries().entrySet()) {
      if (e.getValue().present() || e.getKey().equals(config.nodeId())) continue;
      v = v.raiseDrained(e.getKey(), Membership.originsOf(m.applied(), e.getKey()));
    }
    if (v != m.view()) replica.setMeta(m.withView(v));
  }

  /** Reacts to a view change since the last check; true if there was one. */
  private boolean checkView() {
    ViewState v = replica.meta().view();
    boolean reconcile = replica.meta().mustReconcile();
    boolean changed = !v.equals(viewMark);
    if (changed) {
      viewMark = v;
      stability.viewChanged();
      pullers.reconcile(pullFrom());
      pullers.wakeAll();
      viewChanges.onViewChanged();
      count("view.changed", 1);
    }
    if (admittedMark != pullers.admittedOnce()) {
      admittedMark = pullers.admittedOnce();
      pullers.reconcile(pullFrom()); // admitted: stop asking nodes that are not members
    }
    if (reconcile && !reconcileMark) pullers.restartCatchUp();
    boolean reconciled = reconcileMark && !reconcile; // reads that waited for it may go now
    reconcileMark = reconcile;
    return changed || reconciled;
  }

  private void storageFailed(Event.StorageFailed e) {
    boolean first = failure == null;
    failure = "Storage failed: this node has stopped serving (" + e.reason() + "); restart it";
    if (first) count("storage.failed", 1);
    for (Reply r : e.lost()) {
      if (e.mayBeDurable() && r instanceof Reply.Client c && c.visible() != null && c.visible().dot().origin().equals(replica.meta().origin())
          && (c.outcome() == Reply.Outcome.ADDED || c.outcome() == Reply.Outcome.UPDATED || c.outcome() == Reply.Outcome.DELETED)) {
        // written to the log, perhaps durable: the client must not take it as done nor as not done
        reply(new Reply.Client(c.id(), Reply.Outcome.INDEFINITE, c.visible(), c.exists(), VectorClock.EMPTY, failure, c.siblings()));
      } else {
        reply(new Reply.Unavailable(r.id(), failure));
      }
    }
    clientOps.failAll(failure);
    pullServer.releaseAll(true);
    viewChanges.failAll(failure);
    pullers.reconcile(List.of());
  }

  /** A reconciling catch-up ended whole: drop what the member reflects but no longer holds (docs/design.md §6). */
  void reconcileAfter(VectorClock marks, Set<Dot> confirmed) {
    int changed = Readmission.reconcile(replica, marks, confirmed);
    count("reconcile.keys_changed", changed);
    count("reconcile.completed", 1);
  }

  // ---------------------------------------------------------------- for the parts

  Config config() {
    return config;
  }

  Replica replica() {
    return replica;
  }

  ClientOps clientOps() {
    return clientOps;
  }

  ViewChanges viewChanges() {
    return viewChanges;
  }

  Deadlines deadlines() {
    return deadlines;
  }

  SplittableRandom random() {
    return random;
  }

  long now() {
    return now;
  }

  long nextId() {
    return ++ids;
  }

  void reply(Reply r) {
    replies.add(r);
  }

  void send(Send s) {
    sends.add(s);
  }

  void cancel(long pullId) {
    cancels.add(pullId);
  }

  void count(String name) {
    counter.add(name, 1);
  }

  void count(String name, long delta) {
    if (delta != 0) counter.add(name, delta);
  }

  void observe(String name, double value) {
    counter.observe(name, value);
  }

  /** Records a member's stability report, after reacting to any view change its pull taught. */
  void noteReport(String peer, VectorClock applied, ViewState peerView) {
    checkView();
    stability.note(peer, applied, peerView, replica.meta());
    Stability.Summary s = stability.summarize(replica.meta());
    if (s.ownLogFloor() >= 0) replica.ownLog().truncate(s.ownLogFloor());
  }

  VectorClock reported(String peer) {
    return stability.reported(peer);
  }

  // ---------------------------------------------------------------- from any thread

  /**
   * The answer to a GET or search that needs no step (its payload is covered by the last persisted
   * state), computed without any lock; null when the operation must be stepped. Send it only once
   * the store is durable, like every reply.
   */
  public Reply tryRead(Event.ClientOp op) {
    return clientOps.tryRead(op);
  }

  public String nodeId() {
    return config.nodeId();
  }

  /** The metadata of the last persisted step. */
  public NodeMeta meta() {
    return replica.published();
  }

  public String origin() {
    return replica.published().origin();
  }

  /** The members this node reports, from the last persisted step; only itself once removed. */
  public List<String> members() {
    return Membership.members(replica.published().view(), config.nodeId());
  }

  public boolean isFailed() {
    return failure != null;
  }

  /** Why this node is not ready to serve as a full member (null: ready): failed, reconciling, leaving, or not caught up. */
  public String notReady() {
    return notReady;
  }

  public int parkedCount() {
    return parked;
  }

  /** Peers' pulls held here (long-polls waiting for news), as of the last step. */
  public int heldPullCount() {
    return heldPulls;
  }

  /**
   * Every peer this node pulls from, as of the last step (an immutable snapshot, replaced only
   * when something in it changed, so a caller may compare references); for operators only.
   */
  public List<PeerStatus> peers() {
    return peerStatus;
  }

  /** The siblings of {@code key} as stored (inspection; any thread). */
  public Siblings siblings(String key) {
    return replica.store().get(key);
  }

  /** A snapshot iteration over every key's siblings, in key order; close it. */
  public Store.Scan scan() {
    return replica.store().scan();
  }

  public long keyCount() {
    return replica.store().keyCount();
  }

  private String readiness() {
    if (failure != null) return failure;
    if (replica.meta().mustReconcile()) return "re-admitted: reconciling with a member";
    if (viewChanges.isFenced()) return "being removed: writes wait for the removal";
    if (!pullers.caughtUp()) return "catching up: no complete pull has succeeded yet";
    return null;
  }
}
