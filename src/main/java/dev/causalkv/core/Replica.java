package dev.causalkv.core;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The deterministic replication core of one node: client reads and writes, pull answers and
 * merges, and membership, over a {@link Store}, with time passed in by the caller.
 *
 * <p>It opens no socket, starts no thread and reads no clock. Every public method is atomic
 * (one lock), and every change is one {@link Batch}. After each change the replica calls the
 * listener given at construction (outside the lock) so that the driver can wake waiting reads
 * and held pulls.
 */
public final class Replica {

  /** The result of a read: whether the payload was covered, the key's siblings, and the payload to return. */
  public record Read(boolean covered, Siblings siblings, VectorClock payload) {}

  /** The result of a write: the new version, whether the key existed before, and when it is durable. */
  public record Write(Version version, boolean existedBefore, CompletableFuture<Void> durable) {}

  /**
   * A pull answer: the versions (to be streamed, then closed), the marks the puller may raise its
   * applied to once it has merged them all, this node's view, and this node's whole applied VC
   * (for the puller's information only: in an own-origin answer it exceeds the marks).
   */
  public record PullAnswer(Store.Delta delta, VectorClock marks, ViewState view, VectorClock peerApplied) {}

  /** Own writes kept in {@link #ownLog} at most; older ones fall out and pullers behind them get complete deltas. */
  static final int MAX_OWN_LOG = 1_000_000;

  private final Store store;
  private final String nodeId;
  private final Runnable onChange;
  /** Replaced, never mutated, under the lock; volatile so reads can take it without the lock. */
  private volatile NodeMeta meta;
  /** Each peer's applied VC as its last pull request reported it, since this node's view last changed. */
  private final Map<String, VectorClock> peerApplied = new HashMap<>();
  /** Where the next garbage-collection step resumes in the store's tombstone index. */
  private Dot gcCursor;
  /**
   * The highest seq of each origin among the versions this replica has written or merged (not
   * persisted). Pullers send it so a peer can hold a pull that would only repeat what they have.
   */
  private VectorClock seen = VectorClock.EMPTY;
  /**
   * This origin's writes since {@link #ownLogFloor}, superseded ones included: seq → key. It lets
   * a peer pull this node's own writes alone (DESIGN.md §5, the Bayou-style optimisation), so a
   * write is shipped once to each replica instead of being forwarded by every node. Not
   * persisted: after a restart the floor is the recovered seq, and pullers behind it get
   * complete deltas.
   */
  private final java.util.TreeMap<Long, String> ownLog = new java.util.TreeMap<>();
  private long ownLogFloor;

  private Replica(Store store, String nodeId, NodeMeta meta, Runnable onChange) {
    this.store = store;
    this.nodeId = nodeId;
    this.meta = meta;
    this.onChange = onChange;
    this.ownLogFloor = meta.ownSeq();
  }

  /**
   * Opens the replica over {@code store}: recovers its metadata, or, for an empty store, starts
   * with a fresh origin from {@code freshIncarnation} so that no dot is ever reused.
   */
  public static Replica open(
      Store store, String nodeId, List<String> initialView, Supplier<String> freshIncarnation, Runnable onChange) {
    Objects.requireNonNull(nodeId, "nodeId");
    List<String> members = new ArrayList<>(initialView);
    if (!members.contains(nodeId)) members.add(nodeId);
    ViewState configured = ViewState.initial(members);
    NodeMeta meta = store.loadMeta();
    if (meta == null) {
      String origin = nodeId + "#" + freshIncarnation.get();
      meta = new NodeMeta(origin, 0, VectorClock.EMPTY, VectorClock.EMPTY, configured);
      store.commit(new Batch(List.of(), meta)).join();
    } else {
      // A run-time view change survives restart: configured entries carry stamp 0 and lose to it.
      meta = meta.withView(meta.view().merge(configured));
    }
    return new Replica(store, nodeId, meta, onChange == null ? () -> {} : onChange);
  }

  public String nodeId() {
    return nodeId;
  }

  public synchronized String origin() {
    return meta.origin();
  }

  public synchronized NodeMeta meta() {
    return meta;
  }

  // ---------------------------------------------------------------- client operations

  /**
   * False for a payload this node can prove forged: one claiming more writes of this node's own
   * origin than it ever made (DESIGN.md §5). Integrity of the rest is checked at the edge.
   */
  public boolean isPlausible(VectorClock payload) {
    NodeMeta meta = this.meta;
    return payload.get(meta.origin()) <= meta.ownSeq();
  }

  /** Reads {@code key}; when the payload is covered the siblings answer, else the caller waits. */
  public Read read(String key, VectorClock payload) {
    // Without the lock, so reads run in parallel with each other and with writes. The metadata is
    // taken BEFORE the siblings: state only grows, so an older applied beside newer siblings can
    // only make the read wait, never let it miss a write (the other order could).
    NodeMeta m = meta;
    Siblings s = store.get(key);
    VectorClock svc = s.vc();
    return new Read(covered(m, svc, payload), s, payload.merge(svc));
  }

  /**
   * Writes {@code value} (null for a tombstone) to {@code key} at time {@code nowMillis}. Always
   * accepted. The new version's history includes the payload, every version of the key held here
   * and this origin's previous write, so it replaces all of them.
   */
  public Write write(String key, String value, VectorClock payload, long nowMillis) {
    Write w;
    synchronized (this) {
      Siblings before = store.get(key);
      long seq = meta.ownSeq() + 1;
      Dot dot = new Dot(meta.origin(), seq);
      VectorClock vc = payload.merge(before.vc()).merge(meta.lastOwnVc()).with(dot);
      Version v = new Version(key, value, dot, vc, nowMillis);
      Siblings after = before.merge(v);
      NodeMeta next = new NodeMeta(meta.origin(), seq, vc, meta.applied().with(dot), meta.view());
      CompletableFuture<Void> durable = store.commit(new Batch(List.of(new Batch.KeyChange(key, before, after)), next));
      meta = next;
      seen = seen.with(dot);
      ownLog.put(seq, key);
      if (ownLog.size() > MAX_OWN_LOG) ownLogFloor = ownLog.pollFirstEntry().getKey();
      w = new Write(v, before.exists(), durable);
    }
    onChange.run();
    return w;
  }

  /** covered(K, P) of DESIGN.md §4, given VC(S) of the key's siblings. */
  private boolean covered(NodeMeta m, VectorClock siblingsVc, VectorClock payload) {
    VectorClock applied = m.applied();
    for (Map.Entry<String, Long> e : payload.asMap().entrySet()) {
      String o = e.getKey();
      long need = mustReflect(m, o, e.getValue());
      if (need <= applied.get(o) || need <= siblingsVc.get(o)) continue;
      return false;
    }
    return true;
  }

  /**
   * How much of origin {@code o}'s history, up to {@code need}, a read must find reflected here.
   * All of it, normally. For a removed node, only what its remover had drained: learning of a
   * removal (pushed, or piggybacked on a pull) does not bring the drained writes with it, so
   * ignoring the origin outright would let a read miss a write the remover holds. Once this
   * node is itself removed, it serves alone and waits for no other origin.
   */
  private long mustReflect(NodeMeta m, String o, long need) {
    if (m.view().isRemoved(nodeId)) return o.equals(m.origin()) ? need : 0;
    ViewState.Entry e = m.view().entries().get(nodeOf(o));
    if (e != null && !e.present()) return Math.min(need, e.drained().get(o));
    return need;
  }

  /**
   * Origins whose writes a read need not wait for: those of nodes removed from the view (their
   * writes were drained first; reads still wait for what the removal drained, see
   * {@link #mustReflect}), or, once this node is itself removed, every origin but its own.
   */
  public synchronized boolean isIgnorable(String origin) {
    if (isRemovedSelf()) return !origin.equals(meta.origin());
    return meta.view().isRemoved(nodeOf(origin));
  }

  /** The node id part of an origin ({@code nodeId#incarnation}). */
  public static String nodeOf(String origin) {
    int i = origin.lastIndexOf('#');
    return i < 0 ? origin : origin.substring(0, i);
  }

  // ---------------------------------------------------------------- replication

  /** What this replica has seen of each origin, for its pull requests. */
  public synchronized VectorClock seen() {
    return seen.merge(meta.applied());
  }

  /**
   * True when a puller at {@code since} that has seen {@code pullerSeen} would learn something:
   * higher marks, or a version it has not seen. A version below what the puller has seen but
   * above its applied (a rare gap) still goes out in the next complete answer, at the latest when
   * the hold times out; holding instead of answering avoids pulls that spin without progress.
   */
  public synchronized boolean hasNewsFor(VectorClock since, VectorClock pullerSeen) {
    return !since.dominatesOrEquals(meta.applied()) || store.hasVersionsAfter(since.merge(pullerSeen));
  }

  /** The complete delta for a puller at {@code since}, with marks from the same instant. */
  public synchronized PullAnswer answerPull(VectorClock since) {
    return new PullAnswer(store.delta(since), meta.applied(), meta.view(), meta.applied());
  }

  /**
   * True when a puller at {@code since} asking for this node's own writes would learn something:
   * a newer own write, or a complete delta because its position fell out of the own-write log.
   */
  public synchronized boolean hasOwnNewsFor(VectorClock since) {
    long from = since.get(meta.origin());
    return from < ownLogFloor || meta.ownSeq() > from;
  }

  /**
   * The answer to a pull of this node's own writes: the CURRENT siblings of every key this origin
   * wrote above {@code since}, which reflect each of those writes (held, or dominated by a held
   * version), so the puller may raise this origin alone to the own seq. When the puller's
   * position is older than the log, the complete delta instead (its marks say so).
   */
  public synchronized PullAnswer answerOwnPull(VectorClock since) {
    long from = since.get(meta.origin());
    if (from < ownLogFloor) return answerPull(since);
    java.util.LinkedHashSet<String> keys = new java.util.LinkedHashSet<>(ownLog.tailMap(from, false).values());
    List<Version> versions = new ArrayList<>();
    for (String k : keys) versions.addAll(store.get(k).versions());
    Store.Delta delta = Store.Delta.of(versions);
    VectorClock marks = meta.ownSeq() == 0 ? VectorClock.EMPTY : VectorClock.EMPTY.with(meta.origin(), meta.ownSeq());
    return new PullAnswer(delta, marks, meta.view(), meta.applied());
  }

  /**
   * Merges pulled versions (any subset of an answer: merging is always safe) in one batch.
   * Versions of keys this replica dominates change nothing, and neither do versions that
   * {@code applied} already covers: this replica reflects them (holds them, or something that
   * dominates them), or reflected them until it garbage-collected the tombstones that did. An
   * answer read from an older snapshot of a peer can still carry such a version after the
   * tombstone was collected here; merging it would bring deleted data back, at this node only.
   */
  public CompletableFuture<Void> merge(List<Version> versions) {
    CompletableFuture<Void> durable;
    synchronized (this) {
      Map<String, Siblings> before = new java.util.LinkedHashMap<>();
      Map<String, Siblings> after = new java.util.LinkedHashMap<>();
      for (Version v : versions) {
        seen = seen.with(v.dot());
        if (meta.applied().covers(v.dot())) continue;
        Siblings cur = after.containsKey(v.key()) ? after.get(v.key()) : store.get(v.key());
        before.putIfAbsent(v.key(), cur);
        after.put(v.key(), cur.merge(v));
      }
      List<Batch.KeyChange> changes = new ArrayList<>();
      for (Map.Entry<String, Siblings> e : after.entrySet()) {
        Siblings b = before.get(e.getKey());
        if (!b.equals(e.getValue())) changes.add(new Batch.KeyChange(e.getKey(), b, e.getValue()));
      }
      if (changes.isEmpty()) return CompletableFuture.completedFuture(null);
      durable = store.commit(new Batch(changes, meta));
    }
    onChange.run();
    return durable;
  }

  /**
   * Raises {@code applied} to the marks of an answer whose every version has been merged. Never
   * call it for an answer that broke off: its marks may promise versions not received.
   */
  public CompletableFuture<Void> raiseApplied(VectorClock marks) {
    CompletableFuture<Void> durable;
    synchronized (this) {
      VectorClock next = meta.applied().merge(marks);
      if (next.equals(meta.applied())) return CompletableFuture.completedFuture(null);
      meta = meta.withApplied(next);
      durable = store.commit(new Batch(List.of(), meta));
    }
    onChange.run();
    return durable;
  }

  public CompletableFuture<Void> durable() {
    return store.durable();
  }


  // ---------------------------------------------------------------- tombstone garbage collection

  /*
   * Tombstones are dropped by causal stability (DESIGN.md §7). Each pull request carries the
   * puller's applied VC; the replica keeps the last one per member, and forgets them all whenever
   * its view changes (a report counts only if the puller's view already matched this node's).
   * A key is dropped when
   *   (1) every sibling is a tombstone,
   *   (2) every sibling's vc is covered by every member's report and by this node's applied,
   *       so every member holds these tombstones or something dominating them, and no member will
   *       ever again be sent them or anything they dominate (pulls ship only seq > applied), and
   *   (3) this node's applied covers every member's report, so any write concurrent with the
   *       tombstones that a member had made (or applied) before reporting has reached this node
   *       already, where it would be a sibling and block (1).
   * Writes made after a member's report that covers the tombstones come after them causally. To
   * keep that true at a member that has already dropped them, the vcs of dropped tombstones are
   * merged into lastOwnVc, which every later own write includes (it stays causally closed: a union
   * of version vcs). So a later write to the key dominates the dropped tombstones everywhere, and
   * a node that still holds them drops them on merge instead of keeping a sibling.
   * A node removed from the view (serving alone) collects nothing: it may be added back.
   */

  /**
   * Records {@code applied}, reported by member {@code peer} in a pull request made when its view
   * was {@code peerView}. Ignored for non-members and for pullers whose view lags this node's.
   */
  public synchronized void notePeerApplied(String peer, VectorClock applied, ViewState peerView) {
    if (peer.equals(nodeId) || isRemovedSelf() || !meta.view().contains(peer)) return;
    if (!peerView.merge(meta.view()).equals(peerView)) return;
    peerApplied.put(peer, applied);
    truncateOwnLog();
  }

  /** Drops own writes every member has applied: no own-origin pull will ask for them again. */
  private void truncateOwnLog() {
    long floor = meta.ownSeq();
    for (String m : meta.view().members()) {
      if (m.equals(nodeId)) continue;
      VectorClock r = peerApplied.get(m);
      if (r == null) return;
      floor = Math.min(floor, r.get(meta.origin()));
    }
    if (floor <= ownLogFloor) return;
    ownLog.headMap(floor, true).clear();
    ownLogFloor = floor;
  }

  /** The VC every member is known to have applied, or null while some member has not reported. */
  public synchronized VectorClock stableVc() {
    if (isRemovedSelf()) return null;
    VectorClock stable = meta.applied();
    for (String m : meta.view().members()) {
      if (m.equals(nodeId)) continue;
      VectorClock r = peerApplied.get(m);
      if (r == null || !meta.applied().dominatesOrEquals(r)) return null; // (3)
      stable = min(stable, r);
    }
    return stable;
  }

  /**
   * Drops up to about {@code limit} causally stable tombstoned keys in one batch; returns how many
   * keys were dropped. Cheap when there is nothing to do; call it periodically.
   */
  public int collectGarbage(int limit) {
    int dropped;
    synchronized (this) {
      VectorClock stable = stableVc();
      if (stable == null || stable.isEmpty()) return 0;
      List<Store.DotKey> candidates = store.tombstones(stable, gcCursor, limit);
      gcCursor = candidates.size() < limit ? null : candidates.get(candidates.size() - 1).dot();
      List<Batch.KeyChange> changes = new ArrayList<>();
      java.util.Set<String> seen = new java.util.HashSet<>();
      VectorClock collected = meta.lastOwnVc();
      for (Store.DotKey c : candidates) {
        if (!seen.add(c.key())) continue;
        Siblings s = store.get(c.key());
        if (s.isEmpty() || !isStable(s, stable)) continue;
        changes.add(new Batch.KeyChange(c.key(), s, Siblings.EMPTY));
        collected = collected.merge(s.vc());
      }
      if (changes.isEmpty()) return 0;
      NodeMeta next = new NodeMeta(meta.origin(), meta.ownSeq(), collected, meta.applied(), meta.view());
      store.commit(new Batch(changes, next));
      meta = next;
      dropped = changes.size();
    }
    onChange.run();
    return dropped;
  }

  private static boolean isStable(Siblings s, VectorClock stable) {
    for (Version v : s.versions()) {
      if (!v.isTombstone() || !stable.dominatesOrEquals(v.vc())) return false;
    }
    return true;
  }

  private static VectorClock min(VectorClock a, VectorClock b) {
    Map<String, Long> m = new HashMap<>();
    for (Map.Entry<String, Long> e : a.asMap().entrySet()) m.put(e.getKey(), Math.min(e.getValue(), b.get(e.getKey())));
    return VectorClock.of(m);
  }

  // ---------------------------------------------------------------- membership

  public synchronized ViewState view() {
    return meta.view();
  }

  /** True once a recorded change removed this node: it then serves alone (DESIGN.md §6). */
  public synchronized boolean isRemovedSelf() {
    return meta.view().isRemoved(nodeId);
  }

  /** The members this node reports and exchanges data with; only itself once removed. */
  public synchronized List<String> members() {
    return isRemovedSelf() ? List.of(nodeId) : meta.view().members();
  }

  /** The peers to pull from: the members other than this node. */
  public synchronized List<String> peers() {
    List<String> out = new ArrayList<>(members());
    out.remove(nodeId);
    return out;
  }

  /**
   * Decides whether to answer a pull from {@code from}, whose view is {@code pullerView}: yes when
   * it is a member. A puller this node does not list may have been added by a change this node
   * missed (the push was lost under a partition); its view carries that change, and refusing
   * without learning it would leave both sides waiting for each other for good. So the changes
   * the puller's view recorded are merged first (a join: always safe), but not its configured
   * entries, so a node cannot join merely by listing itself in its VIEW.
   */
  public boolean admitPull(String from, ViewState pullerView) {
    if (from.equals(nodeId)) return false;
    if (!members().contains(from)) mergeView(pullerView.recorded());
    if (!members().contains(from)) return false;
    mergeView(pullerView);
    return true;
  }

  /** Merges a view learnt from a peer; returns true when it changed anything. */
  public boolean mergeView(ViewState incoming) {
    synchronized (this) {
      ViewState next = meta.view().merge(incoming);
      if (next.equals(meta.view())) return false;
      meta = meta.withView(next);
      peerApplied.clear();
      store.commit(new Batch(List.of(), meta));
    }
    onChange.run();
    return true;
  }

  /** Records that {@code member} joins ({@code present}) or leaves the view, authored here. */
  public ViewState changeView(String member, boolean present) {
    ViewState next;
    synchronized (this) {
      VectorClock drained = VectorClock.EMPTY; // what this node holds of the leaving node's origins
      if (!present) {
        for (Map.Entry<String, Long> e : meta.applied().asMap().entrySet()) {
          if (nodeOf(e.getKey()).equals(member)) drained = drained.with(e.getKey(), e.getValue());
        }
      }
      next = meta.view().with(member, present, nodeId, drained);
      meta = meta.withView(next);
      peerApplied.clear();
      store.commit(new Batch(List.of(), meta)).join();
    }
    onChange.run();
    return next;
  }

  // ---------------------------------------------------------------- inspection

  public Store.Scan scan() {
    synchronized (this) {
      return store.scan();
    }
  }

  public synchronized long keyCount() {
    return store.keyCount();
  }
}
