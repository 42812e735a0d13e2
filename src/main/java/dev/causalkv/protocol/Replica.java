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
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The data of one replica: its keys' siblings (in the store), its metadata and what it has seen,
 * changed by the steps of {@link NodeCore} and collected into one {@link Batch} per step.
 *
 * <p>Within a step every read sees the step's own pending changes. Lock-free readers outside
 * steps see {@link #published()} metadata, which is replaced only after the step's batch is in
 * the store: they may find newer siblings beside older metadata (which can only make a read
 * wait), never newer metadata beside older siblings (which could let a read miss a write).
 */
final class Replica {

  /** A read: whether the payload is covered (else the first origin that is not), the siblings, the payload to return. */
  record Read(boolean covered, String blockingOrigin, Siblings siblings, VectorClock payload) {}

  /** A write's new version and whether the key existed (was visible, not a tombstone) before it. */
  record Write(Version version, boolean existedBefore) {}

  private final Store store;
  private final String self;
  private NodeMeta meta;
  private volatile NodeMeta published;
  /**
   * The highest seq of each origin among the versions this replica has written or merged (not
   * persisted). Pullers send it so a peer can hold a pull that would only repeat what they have.
   */
  private VectorClock seen = VectorClock.EMPTY;
  private final Map<String, Siblings> before = new LinkedHashMap<>();
  private final Map<String, Siblings> after = new LinkedHashMap<>();
  private NodeMeta metaAtStepStart;
  /** Keys changed since {@link #drainTouched} last ran: what parked reads may be waiting on. */
  private Set<String> touched = new LinkedHashSet<>();
  private final OwnLog ownLog;
  private final boolean readsNeverWait;
  private boolean skipReconcile;

  private Replica(Store store, String self, NodeMeta meta, boolean readsNeverWait) {
    this.store = store;
    this.self = self;
    this.meta = meta;
    this.published = meta;
    this.metaAtStepStart = meta;
    this.ownLog = new OwnLog(meta.ownSeq());
    this.readsNeverWait = readsNeverWait;
  }

  /**
   * Opens the replica over {@code store}: recovers its metadata, or, for an empty store, starts
   * with a fresh origin from {@code freshIncarnation} so that no dot is ever reused.
   */
  static Replica open(Store store, String self, List<String> initialView, Supplier<String> freshIncarnation,
      boolean readsNeverWait) {
    Objects.requireNonNull(self, "self");
    List<String> members = new ArrayList<>(initialView);
    if (!members.contains(self)) members.add(self);
    ViewState configured = ViewState.initial(members);
    NodeMeta meta = store.loadMeta();
    if (meta == null) {
      meta = new NodeMeta(self + "#" + freshIncarnation.get(), 0, VectorClock.EMPTY, VectorClock.EMPTY, configured);
      // Not awaited here: every reply and message waits for the store to be durable anyway.
      store.commit(new Batch(List.of(), meta));
    } else {
      // A run-time view change survives restart: configured entries carry stamp 0 and lose to it.
      meta = meta.withView(meta.view().merge(configured));
    }
    return new Replica(store, self, meta, readsNeverWait);
  }

  String self() {
    return self;
  }

  Store store() {
    return store;
  }

  /** The metadata as this step has changed it so far. */
  NodeMeta meta() {
    return meta;
  }

  /** The metadata of the last persisted step: what lock-free readers go by. */
  NodeMeta published() {
    return published;
  }

  /** The planted bug SKIP_RECONCILE. */
  void skipReconcile() {
    skipReconcile = true;
  }

  OwnLog ownLog() {
    return ownLog;
  }

  VectorClock seen() {
    return seen.merge(meta.applied());
  }

  // ---------------------------------------------------------------- reads

  /** The siblings of {@code key}, this step's pending change included. */
  Siblings get(String key) {
    Siblings s = after.get(key);
    return s != null ? s : store.get(key);
  }

  /** A read inside a step. */
  Read read(String key, VectorClock payload) {
    return read(meta, get(key), payload);
  }

  /**
   * A read outside any step, safe from any thread. The metadata is taken BEFORE the siblings:
   * state only grows, so an older applied beside newer siblings can only make the read wait.
   */
  Read readPublished(String key, VectorClock payload) {
    NodeMeta m = published;
    return read(m, store.get(key), payload);
  }

  private Read read(NodeMeta m, Siblings s, VectorClock payload) {
    VectorClock svc = s.vc();
    String blocking = readsNeverWait ? null : firstUncovered(m, svc, payload);
    return new Read(blocking == null, blocking, s, payload.merge(svc));
  }

  /**
   * covered(K, P) of docs/design.md §4, given VC(S) of the key's siblings: null when every origin
   * of the payload is reflected here (applied, or dominated by a sibling), else the first that is not.
   */
  private String firstUncovered(NodeMeta m, VectorClock siblingsVc, VectorClock payload) {
    VectorClock applied = m.applied();
    for (Map.Entry<String, Long> e : payload.asMap().entrySet()) {
      String o = e.getKey();
      long need = Membership.mustReflect(m, self, o, e.getValue());
      if (need <= applied.get(o) || need <= siblingsVc.get(o)) continue;
      return o;
    }
    return null;
  }

  /**
   * False for a payload this node can prove forged: one claiming more writes of this node's own
   * origin than it ever made (docs/design.md §5). Integrity of the rest is checked at the edge.
   */
  boolean isPlausible(VectorClock payload) {
    // Every payload handed out was built after its step was published, so published suffices.
    NodeMeta m = published;
    return payload.get(m.origin()) <= m.ownSeq();
  }

  // ---------------------------------------------------------------- changes

  /**
   * Writes {@code value} (null for a tombstone) to {@code key}, stamped {@code wallMillis}. The
   * new version's history includes the payload, every version of the key held here and this
   * origin's previous write, so it replaces all of them. Returns null, changing nothing, when the
   * new version would not survive its own merge: some held version claims this origin's new seq
   * already, which only a forged history can make happen.
   */
  Write write(String key, String value, VectorClock payload, long wallMillis) {
    Siblings prior = get(key);
    long seq = meta.ownSeq() + 1;
    Dot dot = new Dot(meta.origin(), seq);
    VectorClock vc = payload.merge(prior.vc()).merge(meta.lastOwnVc()).with(dot);
    Version v = new Version(key, value, dot, vc, wallMillis);
    Siblings next = prior.merge(v);
    if (!next.contains(dot)) return null;
    change(key, prior, next);
    meta = new NodeMeta(meta.origin(), seq, vc, meta.applied().with(dot), meta.view(), meta.mustReconcile());
    seen = seen.with(dot);
    ownLog.add(seq, key);
    return new Write(v, prior.exists());
  }

  /**
   * Merges pulled versions (any subset of an answer: merging is always safe). Versions that
   * {@code applied} already covers change nothing: this replica reflects them (holds them, or
   * something that dominates them), or reflected them until it garbage-collected the tombstones
   * that did. An answer read from an older snapshot of a peer can still carry such a version after
   * the tombstone was collected here; merging it would bring deleted data back, at this node only.
   * Returns how many versions were refused for claiming this node's origin beyond its seq.
   */
  int merge(List<Version> versions) {
    int refused = 0;
    for (Version v : versions) {
      if (!ownClaimsHonoured(v)) {
        refused++;
        continue;
      }
      seen = seen.with(v.dot());
      if (meta.applied().covers(v.dot())) continue;
      Siblings cur = get(v.key());
      Siblings next = cur.merge(v);
      if (next != cur) change(v.key(), cur, next);
    }
    return refused;
  }

  /** The furthest a pulled version may move this node's own seq on at once (see ownClaimsHonoured). */
  static final long MAX_OWN_SKIP = 1L << 32;

  /**
   * A pulled version that claims more of this node's own origin than it has issued could only be
   * forged (by a member: outsiders cannot seal such a payload) or come from a lost sync
   * ({@code SYNC=never} after a machine crash). Held as it is, it would dominate every write this
   * node makes to its key until the seq caught up: those writes would be refused, and the key
   * stuck. So this node skips its own seq past the claim (and its applied with it: it made no
   * writes in between), and its next write to the key supersedes the version, here and
   * everywhere, as any later write would. Refused (false: not merged): a version whose own dot is
   * this node's but which it never made, and claims beyond {@link #MAX_OWN_SKIP} (one message
   * must not use up the seq range).
   */
  private boolean ownClaimsHonoured(Version v) {
    String own = meta.origin();
    long claim = v.vc().get(own);
    if (claim <= meta.ownSeq()) return true;
    if (v.dot().origin().equals(own) || claim - meta.ownSeq() > MAX_OWN_SKIP) return false;
    meta = new NodeMeta(own, claim, meta.lastOwnVc(), meta.applied().with(own, claim), meta.view(), meta.mustReconcile());
    return true;
  }

  /** Raises {@code applied} to the marks of an answer whose every version has been merged. */
  void raiseApplied(VectorClock marks) {
    meta = meta.withApplied(meta.applied().merge(marks));
  }

  /** Replaces the siblings of {@code key} (an empty value drops the key). */
  void put(String key, Siblings next) {
    change(key, get(key), next);
  }

  void setMeta(NodeMeta next) {
    meta = next;
  }

  private void change(String key, Siblings prior, Siblings next) {
    if (!before.containsKey(key)) before.put(key, prior);
    after.put(key, next);
    touched.add(key);
  }

  /** The keys changed since the last call. */
  Set<String> drainTouched() {
    if (touched.isEmpty()) return Set.of();
    Set<String> t = touched;
    touched = new LinkedHashSet<>();
    return t;
  }

  /**
   * Merges a view learnt from a peer. Only recorded changes travel (stamp above 0): the entries
   * another node was configured with at start-up are its own, so that a typo in one node's VIEW
   * cannot make a ghost member everywhere. Learning that this node was (re)added sets
   * {@link NodeMeta#mustReconcile()}.
   */
  void mergeView(ViewState incoming) {
    ViewState current = meta.view();
    ViewState next = current.merge(incoming.recorded());
    if (next.equals(current)) return;
    boolean readmitted = !skipReconcile && Membership.readmits(current, next, self);
    meta = meta.withView(next);
    if (readmitted) meta = meta.withReconcile(true);
  }

  /** Records that {@code member} joins ({@code present}) or leaves the view, authored here. */
  ViewState changeView(String member, boolean present, VectorClock drained) {
    ViewState next = meta.view().with(member, present, self, present ? VectorClock.EMPTY : drained);
    meta = meta.withView(next);
    return next;
  }

  /** Ends the step: the batch holding every change since the last one, or null when nothing changed. */
  Batch take() {
    NodeMeta start = metaAtStepStart;
    metaAtStepStart = meta;
    List<Batch.KeyChange> changes = new ArrayList<>(after.size());
    for (Map.Entry<String, Siblings> e : after.entrySet()) {
      Siblings b = before.get(e.getKey());
      if (!b.equals(e.getValue())) changes.add(new Batch.KeyChange(e.getKey(), b, e.getValue()));
    }
    before.clear();
    after.clear();
    if (changes.isEmpty() && meta.equals(start)) return null;
    return new Batch(changes, meta);
  }

  /** The last step's batch is persisted: lock-free readers may now go by its metadata. */
  void publish() {
    published = meta;
  }
}
