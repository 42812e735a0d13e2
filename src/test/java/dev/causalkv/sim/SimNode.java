package dev.causalkv.sim;

import dev.causalkv.core.ForwardWatch;
import dev.causalkv.core.Replica;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.core.ViewState;
import dev.causalkv.storage.InMemoryStore;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * One simulated node: the real {@link Replica} over an {@link InMemoryStore}, driven the way the
 * production driver drives it (PeerTransport.pullOnce / InternalApi.pull), but with messages on
 * the {@link SimNetwork} and time from the {@link EventLoop}.
 *
 * <p>Pull protocol (DESIGN.md §5): each node runs one puller per peer. A pull request carries the
 * puller's {@code applied} and view; the peer answers at once when it has news, else holds the
 * request until it has or {@code holdMillis} pass. The answer is the complete delta read from
 * one snapshot, streamed in frames, the last carrying the marks and a count; the puller merges
 * every frame as it arrives and raises {@code applied} only after the last. A broken-off stream
 * raises nothing. Frames of a stream from an earlier request (a duplicate or late one) are
 * processed the same way: that is safe, and the real transport never sees them.
 */
final class SimNode {

  /** A pull request on the wire. */
  record PullRequest(long reqId, String from, VectorClock since, VectorClock seen, ViewState view, boolean ownOnly) {}

  /**
   * Pull protocol under test, {@code -Dsim.pull=own|all}: "own" (the default) is the production
   * one (a complete pull first, then own-origin pulls, complete again to forward around a cut
   * link); "all" uses complete pulls only.
   */
  static final boolean OWN_PULLS = !"all".equals(System.getProperty("sim.pull", "own"));
  /** As PeerTransport's puller: own pulls are held this long at most, and forwarding starts this late. */
  static final long OWN_HOLD_MILLIS = 250;
  static final long FORWARD_AFTER_MILLIS = 250;

  /** One frame of a streamed answer; the last one carries the marks and the version count. */
  record Frame(long streamId, long reqId, int index, List<Version> versions, ViewState view, boolean last, VectorClock marks, long count, VectorClock peerApplied) {}

  /** A client operation waiting for its payload to be covered. */
  interface Parked {
    /** Tries to finish; true when done. */
    boolean retry();

    /** The node crashed under the request: the client sees the connection reset. */
    void abort();
  }

  final String id;
  Replica replica;
  private final InMemoryStore store = InMemoryStore.create();
  private final List<String> initialView;
  /** Crashed and not yet restarted: receives nothing, serves nothing. */
  boolean down;
  /** Incarnation of the process; answers streamed by an earlier one break off with it. */
  private int generation;
  private final Simulation sim;
  long skewMillis;
  private final Map<String, Puller> pullers = new TreeMap<>();
  private final List<PullRequest> heldPulls = new ArrayList<>();
  final List<Parked> parkedOps = new ArrayList<>();
  private boolean recheckQueued;
  private long streamIds;
  long pullsCompleted;
  long pullsFailed;

  SimNode(Simulation sim, String id, List<String> view, long skewMillis) {
    this.sim = sim;
    this.id = id;
    this.skewMillis = skewMillis;
    this.initialView = List.copyOf(view);
    this.replica = Replica.open(store, id, view, () -> "1", this::onChange);
  }

  /** This node's wall clock: simulated time plus its skew (which may jump, also backwards). */
  long localNowMillis() {
    return sim.loop.nowMillis() + skewMillis;
  }

  /** Like the driver's Waiters.signal(): re-check parked work once, after the current event. */
  private void onChange() {
    if (recheckQueued) return;
    recheckQueued = true;
    sim.loop.after(0, this::recheck);
  }

  private void recheck() {
    recheckQueued = false;
    if (down) return;
    for (PullRequest r : new ArrayList<>(heldPulls)) {
      if (heldPulls.contains(r) && hasNews(r)) {
        heldPulls.remove(r);
        answer(r);
      }
    }
    for (Parked p : new ArrayList<>(parkedOps)) {
      if (parkedOps.contains(p) && p.retry()) parkedOps.remove(p);
    }
    reconcilePullers();
  }

  void start() {
    reconcilePullers();
  }

  /** One puller per peer in the view; pullers of peers that left stop. */
  void reconcilePullers() {
    List<String> peers = replica.peers();
    for (String p : new ArrayList<>(pullers.keySet())) {
      if (!peers.contains(p)) pullers.remove(p).stopped = true;
    }
    for (String p : peers) {
      if (!pullers.containsKey(p) && sim.node(p) != null) {
        Puller puller = new Puller(p);
        pullers.put(p, puller);
        puller.issue();
      }
    }
  }

  // ---------------------------------------------------------------- serving pulls

  void onPullRequest(PullRequest req) {
    if (down) return;
    if (!replica.admitPull(req.from(), req.view())) {
      ViewState v = replica.view();
      sim.net.send(id, req.from(), () -> sim.node(req.from()).onRefused(id, req.reqId(), v));
      return;
    }
    // The puller's applied was durable when sent (in-memory: at once): a stability report for GC.
    replica.notePeerApplied(req.from(), req.since(), req.view());
    if (hasNews(req)) {
      answer(req);
    } else {
      heldPulls.add(req);
      long hold = req.ownOnly() ? Math.min(sim.cfg.holdMillis(), OWN_HOLD_MILLIS) : sim.cfg.holdMillis();
      sim.loop.after(hold, () -> {
        if (heldPulls.remove(req)) answer(req);
      });
    }
  }

  private boolean hasNews(PullRequest r) {
    return r.ownOnly() ? replica.hasOwnNewsFor(r.since()) : replica.hasNewsFor(r.since(), r.seen());
  }

  /** The answer (complete delta, or own writes) from one snapshot, with marks from the same instant, streamed in frames. */
  private void answer(PullRequest req) {
    Replica.PullAnswer a = req.ownOnly() ? replica.answerOwnPull(req.since()) : replica.answerPull(req.since());
    List<Version> vs = new ArrayList<>();
    a.delta().forEachRemaining(vs::add);
    a.delta().close();
    Collections.shuffle(vs, new Random(sim.rnd.nextLong())); // "in any order"
    if (sim.cfg.bugs().contains(SimConfig.Bug.ONE_VERSION_PER_ORIGIN)) {
      Set<String> seen = new HashSet<>();
      vs.removeIf(v -> !seen.add(v.dot().origin()));
    }
    long streamId = ++streamIds;
    List<Frame> frames = new ArrayList<>();
    int i = 0;
    int index = 0;
    do {
      int n = 1 + sim.rnd.nextInt(4);
      List<Version> chunk = vs.subList(i, Math.min(vs.size(), i + n));
      i += chunk.size();
      boolean last = i >= vs.size();
      frames.add(new Frame(streamId, req.reqId(), index, List.copyOf(chunk), index == 0 ? a.view() : null, last,
          last || sim.cfg.bugs().contains(SimConfig.Bug.MARKS_BEFORE_VERSIONS) ? a.marks() : null, vs.size(), a.peerApplied()));
      index++;
    } while (i < vs.size());
    SimNode to = sim.node(req.from());
    int gen = generation;
    List<Runnable> deliveries = new ArrayList<>();
    for (Frame f : frames) deliveries.add(() -> {
      if (generation == gen) to.onFrame(id, f); // a crash of the sender cuts its streams
    });
    sim.net.stream(id, req.from(), deliveries, () -> to.onBroken(id, streamId, req.reqId()));
  }

  // ---------------------------------------------------------------- pulling

  private void onFrame(String peer, Frame f) {
    Puller p = down ? null : pullers.get(peer);
    if (p != null) p.onFrame(f);
  }

  private void onBroken(String peer, long streamId, long reqId) {
    Puller p = pullers.get(peer);
    if (p != null) p.onBroken(streamId, reqId);
  }

  private void onRefused(String peer, long reqId, ViewState view) {
    if (down) return;
    replica.mergeView(view);
    Puller p = pullers.get(peer);
    if (p != null && p.current == reqId) p.fail();
  }

  /** Pulls from one peer for as long as it is in the view, backing off while it fails. */
  private final class Puller {
    static final long BASE_BACKOFF_MILLIS = 50;
    static final long MAX_BACKOFF_MILLIS = 2000;
    static final int MAX_STREAMS = 16;

    final String peer;
    long current = -1;
    int failures;
    boolean stopped;
    /** Whether the next pull is complete (the first one, and to forward); else own-origin. */
    boolean complete = true;
    boolean currentOwn;
    final ForwardWatch forwardWatch = new ForwardWatch(FORWARD_AFTER_MILLIS);
    /** streamId → [next frame index, versions merged so far] of answers being received. */
    final LinkedHashMap<Long, long[]> streams = new LinkedHashMap<>() {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, long[]> e) {
        return size() > MAX_STREAMS;
      }
    };

    Puller(String peer) {
      this.peer = peer;
    }

    void issue() {
      if (stopped || current >= 0) return;
      long reqId = sim.nextId();
      current = reqId;
      currentOwn = OWN_PULLS && !complete;
      PullRequest req = new PullRequest(reqId, id, replica.meta().applied(), replica.seen(), replica.view(), currentOwn);
      sim.net.send(id, peer, () -> sim.node(peer).onPullRequest(req));
      // the HTTP read timeout: hold time plus slack for a slow network
      sim.loop.after(sim.cfg.holdMillis() + 3_000, () -> {
        if (current == reqId) fail();
      });
    }

    void onFrame(Frame f) {
      if (stopped) return;
      long[] st = streams.get(f.streamId());
      if (st == null) {
        if (f.index() != 0) return; // the start of this stream was lost with an older connection
        st = new long[2];
        streams.put(f.streamId(), st);
      }
      if (f.index() != st[0]) { // cannot happen on one connection; treat as broken
        streams.remove(f.streamId());
        return;
      }
      st[0]++;
      if (f.view() != null) replica.mergeView(f.view());
      if (f.index() == 0 && sim.cfg.bugs().contains(SimConfig.Bug.MARKS_BEFORE_VERSIONS)) replica.raiseApplied(f.marks());
      if (!f.versions().isEmpty()) replica.merge(f.versions());
      st[1] += f.versions().size();
      if (f.last()) {
        streams.remove(f.streamId());
        boolean whole = st[1] == f.count();
        if (whole) replica.raiseApplied(f.marks()); // only after every version of the answer is merged
        if (f.reqId() == current) {
          pullsCompleted++;
          failures = 0;
          if (whole) {
            complete = currentOwn
                && forwardWatch.needsComplete(f.marks(), f.peerApplied(), replica.meta().applied(), sim.loop.nowMillis());
          }
          current = -1;
          issue(); // long-poll again at once
        }
      }
    }


    void onBroken(long streamId, long reqId) {
      streams.remove(streamId);
      if (reqId == current) fail();
    }

    void fail() {
      pullsFailed++;
      current = -1;
      failures = Math.min(failures + 1, 16);
      long cap = Math.min(MAX_BACKOFF_MILLIS, BASE_BACKOFF_MILLIS << Math.min(failures, 6));
      long sleep = cap / 2 + sim.rnd.nextLong(cap / 2 + 1); // jitter keeps retries from synchronising
      sim.loop.after(sleep, this::issue);
    }
  }

  // ---------------------------------------------------------------- membership

  /** Drains {@code leaving} like PeerLink.drain: one complete pull, without waiting, if reachable. */
  boolean drain(String leaving) {
    SimNode n = sim.node(leaving);
    if (n == null || n.down || down || !sim.net.connected(id, leaving)) return false;
    // the drain is a pull like any other: the leaving node answers only members (InternalApi.pull)
    if (!n.replica.admitPull(id, replica.view())) {
      replica.mergeView(n.replica.view()); // the 403 carries its view
      return false;
    }
    n.replica.notePeerApplied(id, replica.meta().applied(), replica.view());
    Replica.PullAnswer a = n.replica.answerPull(replica.meta().applied());
    List<Version> vs = new ArrayList<>();
    a.delta().forEachRemaining(vs::add);
    replica.mergeView(a.view()); // the answer's head line: the leaving node's view changes are not lost with it
    replica.merge(vs);
    replica.raiseApplied(a.marks());
    return true;
  }

  /** A pushed view (InternalApi.pushView): drain members this view removes, then merge it. */
  void onViewPush(String from, ViewState view) {
    if (down) return;
    // InternalApi.pushView: only members, or a view about this node, are heard
    if (!replica.members().contains(from) && !view.entries().containsKey(id)) return;
    for (String m : replica.members()) {
      if (!m.equals(id) && view.isRemoved(m) && !replica.view().isRemoved(m)) drain(m);
    }
    replica.mergeView(view);
  }

  // ---------------------------------------------------------------- crash and restart

  /** kill -9: in-flight pulls, held pulls and parked client requests die with the process. */
  void crash() {
    down = true;
    generation++;
    for (Puller p : pullers.values()) p.stopped = true;
    pullers.clear();
    heldPulls.clear();
    List<Parked> parked = new ArrayList<>(parkedOps);
    parkedOps.clear();
    for (Parked p : parked) p.abort();
  }

  /** Restart over the same (durable) store: the replica recovers its state and rejoins. */
  void restart() {
    replica = Replica.open(store, id, initialView, () -> "2", this::onChange);
    down = false;
    reconcilePullers();
  }
}
