package dev.causalkv.sim;

import dev.causalkv.core.Batch;
import dev.causalkv.core.NodeMeta;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.driver.NodeLoop;
import dev.causalkv.protocol.Event;
import dev.causalkv.protocol.NodeCore;
import dev.causalkv.protocol.PullRequest;
import dev.causalkv.protocol.Reply;
import dev.causalkv.protocol.Send;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One simulated node: the production {@link NodeCore} driven by the production {@link NodeLoop},
 * whose effects travel on the {@link SimNetwork} in {@link EventLoop} time instead of sockets and
 * threads. This class decides nothing: it only carries messages (a pull request, the frames of a
 * streamed answer, a push and its acknowledgement) and models the process (crash, restart).
 */
final class SimNode {

  final String id;
  private final Simulation sim;
  private final List<String> initialView;
  private Store disk;
  private RecordingStore store;
  private NodeCore core;
  private NodeLoop loop;
  /** Crashed and not yet restarted: receives nothing, serves nothing. */
  boolean down;
  /** Incarnation of the process: messages, ticks and streams of an earlier one are dropped. */
  private int generation;
  long skewMillis;
  private boolean everStarted;
  private long requestIds;
  /** This node's requests waiting for a reply: id → where the reply goes. */
  private final Map<Long, Consumer<Reply>> pending = new HashMap<>();
  /** Client requests in flight here, told when the process dies under them. */
  private final Map<Long, Runnable> aborts = new HashMap<>();
  /** Pulls this node issued that it cancelled: their frames are dropped, as a cancelled call's would be. */
  private final Set<Long> cancelled = new HashSet<>();

  SimNode(Simulation sim, String id, List<String> view, long skewMillis, Store disk) {
    this.sim = sim;
    this.id = id;
    this.skewMillis = skewMillis;
    this.initialView = List.copyOf(view);
    this.disk = disk;
    this.store = new RecordingStore(disk, this::onCommit);
    open("1");
    everStarted = core != null;
  }

  /**
   * Opens the core over the disk, as a starting process does. A disk fault while opening (the
   * first start writes the new origin) fails the start, as it makes the real process exit: the
   * process is then down, and is started again a little later.
   */
  private void open(String incarnation) {
    NodeCore.Config cfg = new NodeCore.Config(id, initialView, sim.cfg.causalWaitMillis(), sim.cfg.holdMillis(), 2000,
        sim.cfg.maxParked(), sim.cfg.gcPeriodMillis(), 1 + sim.rnd.nextInt(4), sim.rnd.nextLong(), sim.cfg.bugs());
    try {
      core = NodeCore.open(store, cfg, () -> incarnation, (name, delta) -> sim.counted(name, delta));
    } catch (dev.causalkv.core.StorageFailedException e) {
      core = null;
      down = true;
      generation++;
      disk = sim.diskCrashed(this, disk);
      store = new RecordingStore(disk, this::onCommit);
      sim.startFailed(this);
      return;
    }
    loop = new NodeLoop(core, store, new Effects(generation), sim.loop::nowMillis);
  }

  /** True once a start succeeded (the process has a core). */
  boolean started() {
    return core != null;
  }

  NodeCore core() {
    return core;
  }

  Store store() {
    return store;
  }

  Store disk() {
    return disk;
  }

  /** This node's wall clock: simulated time plus its skew (which may jump, also backwards). */
  long wallMillis() {
    return sim.loop.nowMillis() + skewMillis;
  }

  void start() {
    if (core != null && !down) loop.step(new Event.Tick());
  }

  // ---------------------------------------------------------------- requests from outside

  /** A client operation; {@code onReply} gets the answer, {@code onAbort} runs if the process dies first. */
  void clientOp(Event.Op op, String key, String value, VectorClock payload, Consumer<Reply> onReply, Runnable onAbort) {
    long rid = register(onReply);
    aborts.put(rid, onAbort);
    loop.clientOp(new Event.ClientOp(rid, op, key, value, payload, wallMillis()));
  }

  /** An operator's PUT or DELETE /view. */
  void viewChange(String member, boolean add, Consumer<Reply> onReply, Runnable onAbort) {
    long rid = register(onReply);
    aborts.put(rid, onAbort);
    loop.step(new Event.ViewChangeRequested(rid, member, add));
  }

  private long register(Consumer<Reply> onReply) {
    long rid = ++requestIds;
    pending.put(rid, r -> {
      aborts.remove(rid);
      onReply.accept(r);
    });
    return rid;
  }

  // ---------------------------------------------------------------- the effects

  /** The loop's effects on the simulated network, for one incarnation of the process. */
  private final class Effects implements NodeLoop.Effects {
    private final int gen;

    Effects(int gen) {
      this.gen = gen;
    }

    @Override
    public void deliver(Reply reply) {
      if (gen != generation || down) {
        if (reply instanceof Reply.Pull p) p.answer().delta().close();
        return;
      }
      Consumer<Reply> c = pending.remove(reply.id());
      if (c != null) c.accept(reply);
      else if (reply instanceof Reply.Pull p) p.answer().delta().close();
    }

    @Override
    public void send(Send s) {
      if (gen != generation || down) return;
      if (s instanceof Send.Pull p) sim.net.send(id, p.peer(), () -> node(p.peer()).onPull(id, p.pullId(), p.request()));
      else if (s instanceof Send.Push p) sim.net.send(id, p.peer(), () -> node(p.peer()).onPush(id, p.pushId(), p.from(), p));
      else if (s instanceof Send.ForwardViewChange f) sim.net.send(id, f.peer(), () -> node(f.peer()).onForward(id, f));
    }

    @Override
    public void cancel(long pullId) {
      cancelled.add(pullId);
    }

    @Override
    public void wakeAt(long atMillis) {
      sim.loop.at(atMillis, () -> {
        if (gen == generation && !down) loop.step(new Event.Tick());
      });
    }
  }

  private SimNode node(String peer) {
    return sim.node(peer);
  }

  /** Delivers {@code e} to this node's loop, if the process that was sent it is still the one running. */
  private void event(int gen, Event e) {
    if (gen == generation && !down) loop.step(e);
  }

  // ---------------------------------------------------------------- serving peers

  /** A pull from {@code from}: step it, and stream the reply back when it comes. */
  private void onPull(String from, long pullId, PullRequest req) {
    if (down) return;
    SimNode puller = node(from);
    int pullerGen = puller.generation;
    int myGen = generation;
    long rid = register(r -> {
      if (r instanceof Reply.Pull p) {
        stream(puller, pullerGen, pullId, p.answer(), myGen);
      } else if (r instanceof Reply.PullRefusal refusal) {
        sim.net.send(id, from, () -> puller.event(pullerGen, new Event.PullRefused(pullId, refusal.view())));
      } else {
        sim.net.send(id, from, () -> puller.event(pullerGen, new Event.PullFailed(pullId)));
      }
    });
    loop.step(new Event.PullArrived(rid, req));
  }

  /** The answer as a stream of frames: head, versions in small random groups, end. */
  private void stream(SimNode puller, int pullerGen, long pullId, Reply.PullAnswer a, int myGen) {
    List<Version> vs = new ArrayList<>();
    try (Store.Delta d = a.delta()) {
      d.forEachRemaining(vs::add);
    }
    java.util.Collections.shuffle(vs, new java.util.Random(sim.rnd.nextLong())); // "in any order"
    List<Runnable> frames = new ArrayList<>();
    frames.add(() -> puller.frame(pullerGen, pullId, new Event.AnswerBegan(pullId, a.view(), a.marks())));
    for (int i = 0; i < vs.size(); ) {
      int n = 1 + sim.rnd.nextInt(4);
      List<Version> chunk = List.copyOf(vs.subList(i, Math.min(vs.size(), i + n)));
      i += chunk.size();
      frames.add(() -> puller.frame(pullerGen, pullId, new Event.AnswerVersions(pullId, chunk)));
    }
    long count = vs.size();
    frames.add(() -> puller.frame(pullerGen, pullId, new Event.AnswerEnded(pullId, a.marks(), a.peerApplied(), count)));
    List<Runnable> guarded = new ArrayList<>();
    for (Runnable f : frames) guarded.add(() -> {
      if (generation == myGen) f.run(); // a crash of the sender cuts its streams
    });
    sim.net.stream(id, puller.id, guarded, () -> puller.frame(pullerGen, pullId, new Event.PullFailed(pullId)));
  }

  private void frame(int gen, long pullId, Event e) {
    if (cancelled.contains(pullId)) return;
    event(gen, e);
  }

  private void onPush(String from, long pushId, String sender, Send.Push p) {
    if (down) return;
    SimNode pusher = node(from);
    int pusherGen = pusher.generation;
    long rid = register(r -> {
      boolean ok = r instanceof Reply.ViewPushed v && v.accepted();
      sim.net.send(id, from, () -> pusher.event(pusherGen, new Event.PushAnswered(pushId, ok)));
    });
    loop.step(new Event.ViewPushArrived(rid, sender, p.view()));
  }

  private void onForward(String from, Send.ForwardViewChange f) {
    if (down) return;
    SimNode caller = node(from);
    int callerGen = caller.generation;
    long rid = register(r -> {
      Reply.ViewChange result = r instanceof Reply.ViewChange v ? v : null;
      sim.net.send(id, from, () -> caller.event(callerGen, new Event.ForwardAnswered(f.callId(), result)));
    });
    loop.step(new Event.ViewChangeRequested(rid, f.member(), f.add(), !f.add()));
  }

  // ---------------------------------------------------------------- crash and restart

  /** kill -9: requests in flight die with the process; what the disk had not synced is lost. */
  void crash() {
    down = true;
    generation++;
    pending.clear();
    cancelled.clear();
    List<Runnable> dying = new ArrayList<>(aborts.values());
    aborts.clear();
    for (Runnable r : dying) r.run();
    disk = sim.diskCrashed(this, disk);
    store = new RecordingStore(disk, this::onCommit);
  }

  /** Restart over the same (durable) store: the core recovers its state and rejoins. */
  void restart() {
    down = false;
    open("2");
    start();
  }

  /** A start that failed on the disk: try again. */
  void retryStart() {
    down = false;
    open(core == null && !everStarted ? "1" : "2");
    if (core != null) everStarted = true;
    start();
  }

  // ---------------------------------------------------------------- what the checker observes

  /** Every persisted batch passes here: keys that vanish were collected (or reconciled away). */
  private void onCommit(NodeMeta before, Batch b) {
    boolean reconciling = before != null && before.mustReconcile() && !b.meta().mustReconcile();
    List<Siblings> gone = new ArrayList<>();
    List<Version> dropped = new ArrayList<>();
    for (Batch.KeyChange c : b.changes()) {
      if (reconciling) {
        for (Version v : c.before().versions()) {
          if (!c.after().contains(v.dot()) && !dominated(v, c.after())) dropped.add(v);
        }
      } else if (c.after().isEmpty() && !c.before().isEmpty()) {
        gone.add(c.before());
      }
    }
    if (!gone.isEmpty()) sim.collected(this, b.meta().origin(), gone);
    if (!dropped.isEmpty()) sim.reconciled(this, dropped);
  }

  private static boolean dominated(Version v, Siblings s) {
    for (Version x : s.versions()) if (v.isDominatedBy(x)) return true;
    return false;
  }

  /** The Store port, passing every commit to a listener first (with the metadata it replaces). */
  static final class RecordingStore implements Store {
    interface Listener {
      void committed(NodeMeta before, Batch batch);
    }

    private final Store inner;
    private final Listener listener;
    private NodeMeta last;

    RecordingStore(Store inner, Listener listener) {
      this.inner = inner;
      this.listener = listener;
      this.last = inner.loadMeta();
    }

    @Override public NodeMeta loadMeta() { return last = inner.loadMeta(); }
    @Override public Siblings get(String key) { return inner.get(key); }

    @Override
    public CompletableFuture<Void> commit(Batch batch) {
      CompletableFuture<Void> f = inner.commit(batch);
      listener.committed(last, batch);
      last = batch.meta();
      return f;
    }

    @Override public CompletableFuture<Void> durable() { return inner.durable(); }
    @Override public boolean hasVersionsAfter(VectorClock since) { return inner.hasVersionsAfter(since); }
    @Override public Delta delta(VectorClock since) { return inner.delta(since); }
    @Override public Scan scan() { return inner.scan(); }
    @Override public List<DotKey> tombstones(VectorClock upTo, dev.causalkv.core.Dot after, int limit) { return inner.tombstones(upTo, after, limit); }
    @Override public long keyCount() { return inner.keyCount(); }
    @Override public void close() { inner.close(); }
  }
}
