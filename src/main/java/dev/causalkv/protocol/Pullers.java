package dev.causalkv.protocol;

import dev.causalkv.core.Dot;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.core.ViewState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The puller's policy toward each peer (docs/design.md §5): which pull to issue next, when, and
 * what an answer lets this node raise.
 *
 * <p>Toward each peer: one complete pull first (every origin: that is also how a joining or
 * restarted node catches up), then pulls of the peer's own writes only, so that in steady state
 * each write crosses the network once per replica rather than being forwarded by every node.
 * Forwarding is still needed when this node cannot reach some writer (A–C cut, both reach B):
 * while a pull from some other peer fails, pulls are complete (and held as usual), and when an
 * answer shows the peer ahead of this node on another origin that this node has not caught up on
 * {@link #FORWARD_AFTER_MILLIS} later, the next pull is complete again. Own-origin pulls are held
 * at most {@link #OWN_HOLD_MILLIS} so that this check runs even when the peer itself does not
 * write; when a peer starts failing, own-origin pulls held at the others are re-issued at once as
 * forwarding pulls. Complete catch-up pulls take turns (one at a time), so a node catching up
 * gets the bulk from one peer and takes the next peer's delta against what it already has; a
 * peer that has not started answering within {@link #CATCH_UP_TURN_MILLIS} gives the turn up,
 * and a free turn goes to a peer that answers before one that is failing. A peer that fails is
 * retried with capped exponential backoff and jitter.
 */
final class Pullers {

  static final long BASE_BACKOFF_MILLIS = 50;
  static final long MAX_BACKOFF_MILLIS = 150;
  /**
   * An idle link's heartbeat: each peer link costs one pull round trip per hold. 250 ms held an
   * idle 7-node cluster at 0.44-0.51 of a core on this 2-core machine; 1 s holds it at 0.25 (two
   * interleaved pairs, 100 s after start). The price: on an idle peer, the forwarding check of a
   * writer no longer reachable directly runs up to 1 s later, and a silently dropped link is
   * noticed {@link #OWN_SILENCE_SLACK_MILLIS} past that.
   */
  static final long OWN_HOLD_MILLIS = 1000;
  static final long FORWARD_AFTER_MILLIS = 250;
  static final long CATCH_UP_TURN_MILLIS = 250;
  /**
   * After an own-origin pull that brought versions, the next one waits this long, so that under
   * load each answer carries a batch rather than one or two versions: the per-pull HTTP, clock and
   * wake-up cost is shared. An idle link is not delayed (its held pull answers the first write at
   * once); measured on 3 nodes, 16 writers: +25-43% throughput, 2 ms more replication lag at most.
   */
  static final long OWN_LINGER_MILLIS = 2;
  /** A pull this old that has not begun when its peer pulls from this node is taken for a connect whose SYN was dropped. */
  static final long STUCK_CONNECT_MILLIS = 100;
  /** A pull silent this long past its hold is a dead link (the HTTP read timeout of old). */
  static final long SILENCE_SLACK_MILLIS = 3_000;
  static final long OWN_SILENCE_SLACK_MILLIS = 2_000;

  private enum Kind { CATCH_UP, FORWARD, OWN }

  /** The state of pulling from one peer. */
  private static final class Peer {
    final String name;
    final ForwardWatch watch = new ForwardWatch(FORWARD_AFTER_MILLIS);
    long inFlight;
    long issuedMillis;
    Kind kind;
    long silenceMillis;
    long lastHeardMillis;
    boolean began;
    long received;
    /** Dots received in a reconciling catch-up (docs/design.md §6): what the peer confirmed. */
    Set<Dot> confirmed;
    boolean complete = true;
    int failures;
    boolean failing;
    /** Retried early on a pull from this peer during the current failing spell (see {@link #heardFrom}). */
    boolean retriedOnContact;
    /** The pull in flight, should it fail, is retried at once (see {@link #heardFrom}). */
    boolean retryOnFailure;
    long retryAtMillis;
    boolean everCompleted;
    // for operators only (PeerStatus); no decision reads these
    PeerStatus.Link link = PeerStatus.Link.UNKNOWN;
    long lastCompletedMillis = -1;
    long completedTotal;
    long failedTotal;
    int failedInRow;
    long refusedTotal;
    VectorClock peerApplied = VectorClock.EMPTY;
    ViewState peerView;

    Peer(String name) {
      this.name = name;
    }
  }

  private final NodeCore core;
  private final Map<String, Peer> peers = new TreeMap<>();
  private final Map<Long, Peer> byPull = new HashMap<>();
  /** The pull holding the catch-up turn, 0 when free. */
  private long turn;
  /** A complete pull from some peer has succeeded since start-up (sticky: for readiness). */
  private boolean caughtUpOnce;
  /** Something {@link #snapshotIfChanged} shows changed since it was last taken. */
  private boolean changed = true;
  /** Some peer has answered a pull (not refused it): a member lists this node. */
  private boolean admittedOnce;

  Pullers(NodeCore core) {
    this.core = core;
  }

  boolean owns(long pullId) {
    return byPull.containsKey(pullId);
  }

  /** True once a complete pull from some peer has succeeded, or when there is no peer to pull from. */
  boolean admittedOnce() {
    return admittedOnce;
  }

  boolean caughtUp() {
    return caughtUpOnce || peers.isEmpty();
  }

  /** The operators' view of every peer, in peer order, or null when nothing changed since the last call. */
  List<PeerStatus> snapshotIfChanged() {
    if (!changed) return null;
    changed = false;
    List<PeerStatus> out = new ArrayList<>(peers.size());
    for (Peer p : peers.values()) {
      PeerStatus.Mode mode = p.inFlight == 0 && p.complete ? PeerStatus.Mode.CATCH_UP
          : p.kind == null ? PeerStatus.Mode.CATCH_UP
          : switch (p.kind) {
            case CATCH_UP -> PeerStatus.Mode.CATCH_UP;
            case FORWARD -> PeerStatus.Mode.FORWARD;
            case OWN -> PeerStatus.Mode.OWN;
          };
      out.add(new PeerStatus(p.name, p.link, mode, p.everCompleted, p.lastCompletedMillis, p.failedInRow,
          p.completedTotal, p.failedTotal, p.refusedTotal, p.peerApplied, p.peerView));
    }
    return List.copyOf(out);
  }

  /** Pulls from exactly {@code names}: new peers start with a catch-up, peers gone are cancelled. */
  void reconcile(List<String> names) {
    changed = true;
    for (String gone : new HashSet<>(peers.keySet())) {
      if (names.contains(gone)) continue;
      Peer p = peers.remove(gone);
      if (p.inFlight != 0) cancel(p);
    }
    for (String n : names) peers.computeIfAbsent(n, Peer::new);
  }

  /** A view change may make a refusing peer accept this node now: retry every idle peer at once. */
  void wakeAll() {
    for (Peer p : peers.values()) {
      if (p.inFlight == 0) {
        p.failures = 0;
        p.retryAtMillis = core.now();
      }
    }
  }

  /** Re-admitted: every peer starts again with a complete pull, the first of which reconciles. */
  void restartCatchUp() {
    for (Peer p : peers.values()) p.complete = true;
    wakeAll();
  }

  /** Issues the pulls that are due. Runs at the end of every step. */
  void poll() {
    // Peers that answer go first, so that a free catch-up turn goes to one of them rather than to
    // the retry of a peer cut off (whose connect would only time out while the turn waits).
    poll(false);
    poll(true);
  }

  private void poll(boolean failing) {
    long now = core.now();
    boolean reconcile = core.replica().meta().mustReconcile();
    for (Peer p : peers.values()) {
      if (p.failing != failing || p.inFlight != 0 || p.retryAtMillis > now) continue;
      if (reconcile) p.complete = true; // until a reconciling catch-up succeeds, every pull is one
      Kind kind;
      long wait;
      if (p.complete) {
        if (turn != 0) continue; // another peer is streaming a catch-up; this one waits its turn
        kind = Kind.CATCH_UP;
        wait = 0;
      } else if (anotherPeerFailing(p)) {
        // Some writer cannot be reached directly: this peer must forward its writes.
        kind = Kind.FORWARD;
        wait = core.config().holdMillis();
      } else {
        kind = Kind.OWN;
        wait = Math.min(core.config().holdMillis(), OWN_HOLD_MILLIS);
      }
      issue(p, kind, wait);
    }
  }

  private void issue(Peer p, Kind kind, long wait) {
    long id = core.nextId();
    boolean reconciling = kind == Kind.CATCH_UP && core.replica().meta().mustReconcile();
    VectorClock since = reconciling ? VectorClock.EMPTY : core.replica().meta().applied();
    PullRequest req = new PullRequest(core.nodeId(), since, core.replica().seen(), core.replica().meta().view(),
        kind == Kind.OWN ? PullRequest.Mode.OWN : PullRequest.Mode.ALL, wait, false);
    p.inFlight = id;
    if (p.kind != kind) changed = true;
    p.issuedMillis = core.now();
    p.kind = kind;
    p.began = false;
    p.received = 0;
    p.confirmed = reconciling ? new HashSet<>() : null;
    p.silenceMillis = wait + (kind == Kind.OWN ? OWN_SILENCE_SLACK_MILLIS : SILENCE_SLACK_MILLIS);
    p.lastHeardMillis = core.now();
    byPull.put(id, p);
    core.send(new Send.Pull(id, p.name, req));
    watchSilence(p, id);
    if (kind == Kind.CATCH_UP) {
      turn = id;
      core.deadlines().at(core.now() + CATCH_UP_TURN_MILLIS, () -> {
        if (turn == id && !p.began) turn = 0;
      });
    }
  }

  private void watchSilence(Peer p, long id) {
    core.deadlines().at(p.lastHeardMillis + p.silenceMillis, () -> {
      if (p.inFlight != id) return;
      if (core.now() - p.lastHeardMillis >= p.silenceMillis) {
        cancel(p);
        failed(p);
      } else {
        watchSilence(p, id);
      }
    });
  }

  private boolean anotherPeerFailing(Peer p) {
    for (Peer o : peers.values()) if (o != p && o.failing) return true;
    return false;
  }

  /**
   * A pull arrived from {@code name}: its handshake got through, so if this node's pulls to it
   * fail, the link is back. Once per failing spell, the retry goes out now rather than when its
   * backoff ends; a retry in flight that has not begun after {@link #STUCK_CONNECT_MILLIS} (its
   * SYN was likely dropped before the heal) is issued again, and a younger one, should it fail, is
   * retried without backoff. Once only: a peer that can pull from this node but refuses or fails
   * its pulls (overloaded, say) must not be retried in a tight loop.
   */
  void heardFrom(String name) {
    Peer p = peers.get(name);
    if (p == null || !p.failing || p.retriedOnContact) return;
    p.retriedOnContact = true;
    core.count("pull.retried_on_contact");
    if (p.inFlight != 0) {
      if (p.began) return;
      if (core.now() - p.issuedMillis < STUCK_CONNECT_MILLIS) {
        p.retryOnFailure = true; // it may be streaming already, its head not yet stepped: let it run
        return;
      }
      cancel(p);
    }
    p.failures = 0;
    p.retryAtMillis = core.now();
  }

  void onBegan(long pullId, VectorClock headMarks, ViewState peerView) {
    Peer p = byPull.get(pullId);
    if (p == null) return;
    p.began = true;
    if (!peerView.equals(p.peerView)) {
      p.peerView = peerView;
      changed = true;
    }
    p.lastHeardMillis = core.now();
    if (p.failing) reachableAgain(p);
    if (core.config().bugs().contains(PlantedBug.MARKS_BEFORE_VERSIONS)) core.replica().raiseApplied(headMarks);
  }

  /**
   * A failing peer answers again. Once no peer fails, forwarding pulls to the others are
   * cancelled: each writer is reachable and sends its own writes, and a forwarding answer would
   * only repeat them (after a heal, the far side's writes as the near peers merge them). What a
   * cancelled answer brought stays merged; it raised nothing.
   */
  private void reachableAgain(Peer p) {
    p.failing = false;
    p.retriedOnContact = false;
    p.retryOnFailure = false;
    if (anotherPeerFailing(p)) return;
    reissue(p, Kind.FORWARD, "pull.forward_cancelled");
  }

  void onVersions(long pullId, List<Version> versions) {
    Peer p = byPull.get(pullId);
    if (p == null) return;
    p.lastHeardMillis = core.now();
    p.received += versions.size();
    if (p.confirmed != null) for (Version v : versions) p.confirmed.add(v.dot());
  }

  /**
   * The answer ended. Its versions have been merged as they came; only now, and only if none is
   * missing, may applied rise to its marks (a broken-off answer raises nothing).
   */
  void onEnded(long pullId, VectorClock marks, VectorClock peerApplied, long count) {
    Peer p = byPull.remove(pullId);
    if (p == null) return;
    p.inFlight = 0;
    if (turn == pullId) turn = 0;
    if (p.received != count) {
      core.count("pull.incomplete");
      failed(p);
      return;
    }
    core.replica().raiseApplied(marks);
    admittedOnce = true;
    core.viewChanges().admittedBy(p.name, p.issuedMillis);
    if (p.confirmed != null) core.reconcileAfter(marks, p.confirmed);
    p.confirmed = null;
    p.failures = 0;
    p.failing = false;
    p.everCompleted |= p.kind != Kind.OWN;
    caughtUpOnce |= p.kind != Kind.OWN;
    p.retryAtMillis = core.now();
    if (p.kind == Kind.OWN && count > 0) {
      p.retryAtMillis = core.now() + OWN_LINGER_MILLIS;
      core.deadlines().at(p.retryAtMillis, () -> {}); // wakes the driver then; poll() issues it
    }
    p.link = PeerStatus.Link.UP;
    p.lastCompletedMillis = core.now();
    p.completedTotal++;
    p.failedInRow = 0;
    p.peerApplied = peerApplied;
    changed = true;
    boolean wasComplete = p.kind != Kind.OWN;
    p.complete = !wasComplete && p.watch.needsComplete(marks, peerApplied, core.replica().meta().applied(), core.now());
    if (p.complete) core.count("pull.forwarding");
    core.count(wasComplete ? "pull.completed" : "pull.completed_own");
  }

  void onFailed(long pullId) {
    Peer p = byPull.remove(pullId);
    if (p == null) return;
    p.inFlight = 0;
    failed(p);
  }

  void onRefused(long pullId) {
    Peer p = byPull.remove(pullId);
    if (p == null) return;
    p.inFlight = 0;
    if (turn == pullId) turn = 0;
    p.confirmed = null;
    p.link = PeerStatus.Link.REFUSED;
    p.refusedTotal++;
    p.failedInRow = 0;
    changed = true;
    backoff(p);
  }

  private void failed(Peer p) {
    byPull.remove(p.inFlight);
    p.inFlight = 0;
    if (turn != 0 && byPull.get(turn) == null) turn = 0;
    p.confirmed = null;
    // p starts failing: the own pulls held at the others go again at once, as forwarding pulls,
    // rather than after their hold runs out
    if (!p.failing) reissue(p, Kind.OWN, "pull.own_cancelled");
    p.failing = true;
    p.link = PeerStatus.Link.DOWN;
    p.failedTotal++;
    p.failedInRow++;
    changed = true;
    core.count("pull.failed");
    backoff(p);
    if (p.retryOnFailure) {
      p.retryOnFailure = false;
      p.retryAtMillis = core.now();
    }
  }

  /**
   * Cancels the pulls of {@code kind} in flight to every peer but {@code except}, for
   * {@link #poll} to issue again at once as the kind that now applies (what they brought stays
   * merged; they raised nothing).
   */
  private void reissue(Peer except, Kind kind, String counter) {
    for (Peer o : peers.values()) {
      if (o == except || o.inFlight == 0 || o.kind != kind) continue;
      cancel(o);
      o.retryAtMillis = core.now();
      core.count(counter);
    }
  }

  private void backoff(Peer p) {
    p.failures = Math.min(p.failures + 1, 16);
    long cap = Math.min(MAX_BACKOFF_MILLIS, BASE_BACKOFF_MILLIS << Math.min(p.failures, 6));
    long sleep = cap / 2 + core.random().nextLong(cap / 2 + 1); // jitter keeps retries from synchronising
    p.retryAtMillis = core.now() + sleep;
    core.deadlines().at(p.retryAtMillis, () -> {}); // wakes the driver then; poll() issues the retry
  }

  private void cancel(Peer p) {
    long id = p.inFlight;
    byPull.remove(id);
    if (turn == id) turn = 0;
    p.inFlight = 0;
    core.cancel(id);
  }
}
