package dev.causalkv.protocol;

import dev.causalkv.core.NodeMeta;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * Serving peers' pulls (docs/design.md §5): who is admitted, when a held long-poll is answered,
 * and what the answer holds: the complete delta from one snapshot, or this node's own writes.
 *
 * <p>Answers are opened only in {@link NodeCore#advance}, after the step's batch is persisted, so
 * that an answer's versions and its marks come from the same state.
 */
final class PullServer {

  /** The longest a pull is held, whatever the puller asks. */
  static final long MAX_HOLD_MILLIS = 30_000;

  private final NodeCore core;
  private final List<Held> held = new ArrayList<>();

  /** An admitted pull waiting for news or its deadline. */
  private static final class Held {
    final long id;
    final PullRequest request;
    final long arrivedMillis;
    boolean due;
    boolean done;
    /** Not answered in the step it arrived in: it was held (for the wait metrics). */
    boolean waited;

    Held(long id, PullRequest request, long arrivedMillis) {
      this.id = id;
      this.request = request;
      this.arrivedMillis = arrivedMillis;
    }
  }

  PullServer(NodeCore core) {
    this.core = core;
  }

  int heldCount() {
    return held.size();
  }

  void onPull(Event.PullArrived e) {
    PullRequest req = e.request();
    if (core.isFailed()) {
      core.reply(new Reply.Unavailable(e.id(), "Storage failed: this node has stopped serving"));
      return;
    }
    if (core.replica().meta().mustReconcile()) {
      core.reply(new Reply.Unavailable(e.id(), "re-admitted to the view: reconciling its data with a member first"));
      return;
    }
    if (core.viewChanges().removing(req.from()) && req.mode() != PullRequest.Mode.DRAIN) {
      // Neither admitted (that would tell it the removal is off) nor refused (not recorded yet).
      core.reply(new Reply.Unavailable(e.id(), "this node is removing the puller from the view"));
      return;
    }
    if (!admit(req)) {
      core.count("pull.refused");
      core.reply(new Reply.PullRefusal(e.id(), core.replica().meta().view()));
      return;
    }
    if (req.mode() == PullRequest.Mode.DRAIN && req.leaving()) core.viewChanges().fence(req.from());
    // The puller's applied was durable when it sent it (drivers send only after durable): a safe stability report.
    core.noteReport(req.from(), req.since(), req.view());
    Held h = new Held(e.id(), req, core.now());
    held.add(h);
    long wait = req.mode() == PullRequest.Mode.DRAIN ? 0 : Math.min(req.waitMillis(), MAX_HOLD_MILLIS);
    if (wait == 0) h.due = true;
    else core.deadlines().at(core.now() + wait, () -> h.due = true);
  }

  /**
   * Whether to answer a pull from {@code from}: yes when it is a member. A puller this node does
   * not list may have been added by a change this node missed (the push was lost under a
   * partition); its view carries that change, and refusing without learning it would leave both
   * sides waiting for each other for good. So the changes the puller's view recorded are merged
   * first (a join: always safe). A drain is also answered to any node this one lists as present,
   * even once this node is removed: its writes must reach a remaining member before it leaves.
   */
  private boolean admit(PullRequest req) {
    String from = req.from();
    if (from.equals(core.nodeId())) return false;
    core.replica().mergeView(req.view());
    NodeMeta m = core.replica().meta();
    if (req.mode() == PullRequest.Mode.DRAIN && m.view().contains(from)) return true;
    return Membership.members(m.view(), core.nodeId()).contains(from);
  }

  /** After persisting: the held pulls that are due or have news, answered from the persisted state. */
  List<Reply> answerDue() {
    List<Reply> out = new ArrayList<>();
    for (Iterator<Held> it = held.iterator(); it.hasNext(); ) {
      Held h = it.next();
      if (h.done) {
        it.remove();
        continue;
      }
      boolean news = !h.due && hasNews(h.request);
      if (!h.due && !news) {
        h.waited = true;
        continue;
      }
      it.remove();
      h.done = true;
      if (h.waited) core.observe(news ? "wait.pull.ready_millis" : "wait.pull.timeout_millis", core.now() - h.arrivedMillis);
      out.add(new Reply.Pull(h.id, answer(h.request)));
      core.count("pull.served");
    }
    return out;
  }

  /**
   * True when the puller would learn something: higher marks, or a version it has not seen. A
   * version below what the puller has seen but above its applied (a rare gap) still goes out in
   * the next complete answer, at the latest when the hold times out; holding instead of
   * answering avoids pulls that spin without progress. For an own-origin pull: a newer own
   * write, or a complete delta because its position fell out of the own-write log.
   */
  private boolean hasNews(PullRequest r) {
    NodeMeta m = core.replica().meta();
    if (r.mode() == PullRequest.Mode.OWN) {
      long from = r.since().get(m.origin());
      return !core.replica().ownLog().covers(from) || m.ownSeq() > from;
    }
    return !r.since().dominatesOrEquals(m.applied()) || core.replica().store().hasVersionsAfter(r.since().merge(r.seen()));
  }

  private Reply.PullAnswer answer(PullRequest r) {
    NodeMeta m = core.replica().meta();
    if (r.mode() == PullRequest.Mode.OWN) {
      long from = r.since().get(m.origin());
      if (core.replica().ownLog().covers(from)) return ownAnswer(m, from);
    }
    Store.Delta delta = core.replica().store().delta(r.since());
    if (core.config().bugs().contains(PlantedBug.ONE_VERSION_PER_ORIGIN)) delta = onePerOrigin(delta);
    return new Reply.PullAnswer(delta, m.applied(), m.view(), m.applied());
  }

  /**
   * The answer to a pull of this node's own writes: the CURRENT siblings of every key this origin
   * wrote above {@code from}, which reflect each of those writes (held, or dominated by a held
   * version), so the puller may raise this origin alone to the own seq. The keys are copied now
   * (at most the log's bound), their siblings read as the answer streams: later siblings still
   * reflect those writes, and extra versions are always safe to merge. Only siblings that have seen
   * some own write above {@code from} go out: one that reflects such a write has, and one that
   * has not (a concurrent write from the other side of a healed partition) the puller gets from
   * its own origin, so after a partition the answer is not doubled by the other side's writes.
   */
  private Reply.PullAnswer ownAnswer(NodeMeta m, long from) {
    List<String> keys = core.replica().ownLog().keysAfter(from);
    VectorClock marks = m.ownSeq() == 0 ? VectorClock.EMPTY : VectorClock.EMPTY.with(m.origin(), m.ownSeq());
    return new Reply.PullAnswer(new KeysDelta(core.replica().store(), keys, m.origin(), from), marks, m.view(), m.applied());
  }

  /** Answers every held pull at once (shutdown), or refuses them all (storage failed). */
  void releaseAll(boolean failed) {
    for (Held h : held) {
      if (failed && !h.done) {
        h.done = true;
        core.reply(new Reply.Unavailable(h.id, "Storage failed: this node has stopped serving"));
      } else {
        h.due = true;
      }
    }
  }

  /**
   * The versions of a list of keys that have seen a write of {@code origin} above {@code from},
   * read one key at a time as the answer is streamed.
   */
  static final class KeysDelta implements Store.Delta {
    private final Store store;
    private final Iterator<String> keys;
    private final String origin;
    private final long from;
    private Iterator<Version> current = java.util.Collections.emptyIterator();
    private Version next;

    KeysDelta(Store store, List<String> keys, String origin, long from) {
      this.store = store;
      this.keys = keys.iterator();
      this.origin = origin;
      this.from = from;
    }

    @Override
    public boolean hasNext() {
      while (next == null) {
        while (!current.hasNext() && keys.hasNext()) current = store.get(keys.next()).versions().iterator();
        if (!current.hasNext()) return false;
        Version v = current.next();
        if (v.vc().get(origin) > from) next = v;
      }
      return true;
    }

    @Override
    public Version next() {
      if (!hasNext()) throw new NoSuchElementException();
      Version v = next;
      next = null;
      return v;
    }

    @Override
    public void close() {}
  }

  /** The planted bug ONE_VERSION_PER_ORIGIN: a per-origin, truncated delta. */
  private static Store.Delta onePerOrigin(Store.Delta d) {
    List<Version> out = new ArrayList<>();
    Set<String> origins = new HashSet<>();
    try (d) {
      while (d.hasNext()) {
        Version v = d.next();
        if (origins.add(v.dot().origin())) out.add(v);
      }
    }
    return Store.Delta.of(out);
  }
}
