package dev.causalkv.protocol;

import dev.causalkv.core.VectorClock;
import dev.causalkv.core.ViewState;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * View changes (docs/design.md §6), one at a time per node: record the change in the replicated
 * view, push it to every member and wait, bounded, for their acknowledgements.
 *
 * <p>A removal first drains the leaving node: one complete pull of everything this node lacks,
 * marked {@code leaving}, upon which the leaving node fences its writes (they wait) until it
 * learns that it was removed, so no write it acknowledges falls between the drain and the
 * removal. A node asked to remove itself hands the change to another member, which drains it; if
 * no member can be reached, it refuses rather than strand its writes. A node that cannot be
 * drained (down or cut off) is removed anyway, and the answer says what may be lost.
 *
 * <p>Longer than our usual bound: the coordinator's phases (drain, gather, record, push, hand
 * over) and the member's side (pushes, the fence) share one change in progress and read best together.
 */
final class ViewChanges {

  /** How long a write waits at a fenced node before it is refused (nothing written). */
  static final long FENCE_WAIT_MILLIS = 5_000;

  private final NodeCore core;
  private final ArrayDeque<Event.ViewChangeRequested> queue = new ArrayDeque<>();
  private Change current;
  /** Drain pulls in flight: pull id → the change waiting for it (null: a member's own drain on learning a removal). */
  private final Map<Long, Change> drains = new LinkedHashMap<>();
  private final Map<Long, long[]> drainCounts = new LinkedHashMap<>();
  /** The node that drained this one for its removal (fenced while non-null), and since when. */
  private String fencedBy;
  private long fencedSinceMillis;

  /** The change in progress. */
  private final class Change {
    final Event.ViewChangeRequested request;
    long drainPullId;
    final Map<Long, String> pushes = new LinkedHashMap<>();
    final List<String> acknowledged = new ArrayList<>();
    final List<String> unreachable = new ArrayList<>();
    String warning;
    final ArrayDeque<String> forwardTo = new ArrayDeque<>();
    long callId;
    boolean finished;
    /** Pulls from the other members after the leaving node could not be drained (see {@link #gather}). */
    final Set<Long> gathering = new LinkedHashSet<>();

    Change(Event.ViewChangeRequested request) {
      this.request = request;
    }
  }

  ViewChanges(NodeCore core) {
    this.core = core;
  }

  boolean isFenced() {
    return fencedBy != null;
  }

  /** True while this node is removing {@code member}: its pulls are neither refused nor admitted yet. */
  boolean removing(String member) {
    return current != null && !current.request.add() && current.request.member().equals(member);
  }

  boolean busy() {
    return current != null;
  }

  // ---------------------------------------------------------------- coordinator

  void onRequest(Event.ViewChangeRequested e) {
    queue.add(e);
    startNext();
  }

  private void startNext() {
    while (current == null && !queue.isEmpty()) start(queue.poll());
  }

  private void start(Event.ViewChangeRequested e) {
    if (core.isFailed()) {
      core.reply(new Reply.Unavailable(e.id(), "Storage failed: this node cannot change the view"));
      return;
    }
    String self = core.nodeId();
    List<String> members = Membership.members(core.replica().meta().view(), self);
    String member = e.member();
    // "In the view" is the view's own say: a removed node lists only itself as a member, but it is not in the view
    boolean inView = core.replica().meta().view().contains(member);
    if (e.add() == inView) {
      core.reply(new Reply.ViewChange(e.id(), false, List.of(), List.of(), null));
      return;
    }
    Change c = new Change(e);
    current = c;
    if (e.add()) {
      Set<String> targets = new LinkedHashSet<>(members);
      ViewState next = core.replica().changeView(member, true, VectorClock.EMPTY);
      targets.addAll(next.members());
      push(c, targets, next);
    } else if (member.equals(self)) {
      c.forwardTo.addAll(members);
      c.forwardTo.remove(self);
      if (c.forwardTo.isEmpty()) {
        record(c, true); // the only member: nobody else can lose or miss anything
      } else {
        forwardNext(c);
      }
    } else {
      c.drainPullId = drain(member, c, true);
    }
  }

  /** Asks the next member to carry out this node's removal; refuses when none is left. */
  private void forwardNext(Change c) {
    String peer = c.forwardTo.poll();
    if (peer == null) {
      finish(c, new Reply.Unavailable(c.request.id(),
          "no other member could be reached to take over this node's writes; the view was not changed"));
      return;
    }
    long id = core.nextId();
    c.callId = id;
    core.send(new Send.ForwardViewChange(id, peer, c.request.member(), false));
    // The member drains this node, records, pushes and waits for acknowledgements: allow for all of it.
    core.deadlines().at(core.now() + 3 * core.config().ackMillis(), () -> {
      if (current == c && c.callId == id) forwardNext(c);
    });
  }

  void onForwardAnswered(Event.ForwardAnswered e) {
    Change c = current;
    if (c == null || c.callId != e.callId()) return;
    Reply.ViewChange r = e.result();
    if (r == null) {
      forwardNext(c);
      return;
    }
    if (!r.applied() && core.replica().meta().view().isRemoved(core.nodeId())) {
      // an earlier attempt's answer was lost, and the member asked now found it done
      r = new Reply.ViewChange(r.id(), true, r.acknowledged(), r.unreachable(),
          "the removal was made by an earlier hand-over whose answer was lost");
    }
    finish(c, new Reply.ViewChange(c.request.id(), r.applied(), r.acknowledged(), r.unreachable(), r.warning()));
  }

  private long drain(String member, Change c, boolean leaving) {
    long id = core.nextId();
    PullRequest req = new PullRequest(core.nodeId(), core.replica().meta().applied(), core.replica().seen(),
        core.replica().meta().view(), PullRequest.Mode.DRAIN, 0, leaving);
    drains.put(id, c);
    drainCounts.put(id, new long[1]);
    core.send(new Send.Pull(id, member, req));
    core.deadlines().at(core.now() + core.config().ackMillis(), () -> {
      if (drains.containsKey(id)) {
        core.cancel(id);
        drained(id, false);
      }
    });
    return id;
  }

  boolean ownsDrain(long pullId) {
    return drains.containsKey(pullId);
  }

  void onDrainVersions(long pullId, int n) {
    long[] count = drainCounts.get(pullId);
    if (count != null) count[0] += n;
  }

  /** The drain's answer ended: raise applied if it is whole, then go on with the removal. */
  void onDrainEnded(long pullId, VectorClock marks, long count) {
    long[] got = drainCounts.get(pullId);
    boolean whole = got != null && got[0] == count;
    if (whole) core.replica().raiseApplied(marks);
    drained(pullId, whole);
  }

  void onDrainFailed(long pullId) {
    drained(pullId, false);
  }

  private void drained(long pullId, boolean ok) {
    drainCounts.remove(pullId);
    Change c = drains.remove(pullId);
    if (c == null || c != current) return;
    if (c.gathering.remove(pullId)) {
      if (c.gathering.isEmpty()) record(c, false);
      return;
    }
    if (c.drainPullId != pullId) return;
    if (!ok && c.request.mustDrain()) {
      finish(c, new Reply.Unavailable(c.request.id(),
          "could not drain " + c.request.member() + ", which asked to leave: it was not removed"));
      return;
    }
    if (ok) record(c, true);
    else gather(c);
  }

  /**
   * The leaving node could not be drained. Before the removal makes its origins ignorable beyond
   * what this node holds, take what the other reachable members hold of it (one complete pull
   * from each, bounded), so the drained marks cover every write of it that a member has.
   */
  private void gather(Change c) {
    String self = core.nodeId();
    for (String m : Membership.members(core.replica().meta().view(), self)) {
      if (m.equals(self) || m.equals(c.request.member())) continue;
      c.gathering.add(drain(m, c, false));
    }
    if (c.gathering.isEmpty()) record(c, false);
  }

  /**
   * Records the removal. The drained marks say how far other members must reflect the leaving
   * node's origins before they may ignore them: what this node now holds of them, or what a
   * remaining member reported holding, whichever is more, so a read waits for writes a member has.
   */
  private void record(Change c, boolean drainedOk) {
    String member = c.request.member();
    List<String> before = Membership.members(core.replica().meta().view(), core.nodeId());
    VectorClock have = Membership.originsOf(core.replica().meta().applied(), member);
    for (String m : before) {
      if (m.equals(member) || m.equals(core.nodeId())) continue;
      VectorClock r = core.reported(m);
      if (r != null) have = have.merge(Membership.originsOf(r, member));
    }
    if (!drainedOk && !member.equals(core.nodeId())) {
      VectorClock claimed = core.reported(member) == null ? VectorClock.EMPTY : Membership.originsOf(core.reported(member), member);
      c.warning = member + " could not be drained (unreachable): writes it accepted that no remaining member had received"
          + (claimed.dominatesOrEquals(have) && !claimed.equals(have)
              ? " (it last reported " + claimed + ", the members hold " + have + ")" : "")
          + " are not in the view's data and are lost unless it is added back";
      core.count("view.removed_undrained");
    }
    ViewState next = core.replica().changeView(member, false, have);
    push(c, new LinkedHashSet<>(before), next);
  }

  private void push(Change c, Set<String> targets, ViewState view) {
    targets.remove(core.nodeId());
    if (targets.isEmpty()) {
      finishChange(c);
      return;
    }
    for (String t : targets) {
      long id = core.nextId();
      c.pushes.put(id, t);
      core.send(new Send.Push(id, t, core.nodeId(), view));
    }
    core.deadlines().at(core.now() + core.config().ackMillis(), () -> {
      if (current != c || c.finished) return;
      c.unreachable.addAll(c.pushes.values());
      c.pushes.clear();
      finishChange(c);
    });
  }

  void onPushAnswered(Event.PushAnswered e) {
    Change c = current;
    if (c == null) return;
    String peer = c.pushes.remove(e.pushId());
    if (peer == null) return;
    (e.accepted() ? c.acknowledged : c.unreachable).add(peer);
    if (c.pushes.isEmpty()) finishChange(c);
  }

  private void finishChange(Change c) {
    finish(c, new Reply.ViewChange(c.request.id(), true, List.copyOf(c.acknowledged), List.copyOf(c.unreachable), c.warning));
  }

  private void finish(Change c, Reply r) {
    if (c.finished) return;
    c.finished = true;
    core.reply(r);
    current = null;
    startNext();
  }

  // ---------------------------------------------------------------- member side

  /**
   * A pushed view: heard from members, or when it is about this node. Members this view removes
   * are drained as well (in the background: the coordinator drained them already), so their writes
   * reach this node by the shortest way.
   */
  void onPush(Event.ViewPushArrived e) {
    String self = core.nodeId();
    List<String> members = Membership.members(core.replica().meta().view(), self);
    if (!members.contains(e.from()) && !e.view().entries().containsKey(self)) {
      core.reply(new Reply.ViewPushed(e.id(), false));
      return;
    }
    for (String m : members) {
      if (!m.equals(self) && e.view().isRemoved(m) && !core.replica().meta().view().isRemoved(m)) drain(m, null, true);
    }
    core.replica().mergeView(e.view());
    core.reply(new Reply.ViewPushed(e.id(), true));
  }

  // ---------------------------------------------------------------- the fence of a leaving node

  /**
   * A drain for this node's removal arrived from {@code coordinator}: its writes wait (reads go
   * on) until it learns the outcome, so that no write it acknowledges falls between the drain and
   * the removal. The outcome is learnt either as its removal (the view says so), or as the
   * coordinator admitting one of its pulls issued since, which it does only once it is no longer
   * removing this node (it refuses them while it is, see {@link #removing}), so the removal did
   * not happen. Time alone never lifts the fence: a removal recorded but not yet learnt would
   * strand the writes taken after it.
   */
  void fence(String coordinator) {
    if (fencedBy == null || !fencedBy.equals(coordinator)) core.count("view.fenced");
    fencedBy = coordinator;
    fencedSinceMillis = core.now();
  }

  /** A pull from {@code peer}, issued at {@code issuedMillis}, was answered whole. */
  void admittedBy(String peer, long issuedMillis) {
    if (fencedBy != null && fencedBy.equals(peer) && issuedMillis > fencedSinceMillis) lift();
  }

  /** The view changed: once removed, this node serves alone, and its waiting writes are refused. */
  void onViewChanged() {
    if (fencedBy != null && core.replica().meta().view().isRemoved(core.nodeId())) lift();
  }

  private void lift() {
    fencedBy = null;
    core.clientOps().releaseFenced();
  }

  /** Storage failed: the change in progress and those queued get a definite refusal. */
  void failAll(String reason) {
    if (current != null) finish(current, new Reply.Unavailable(current.request.id(), reason));
    while (!queue.isEmpty()) core.reply(new Reply.Unavailable(queue.poll().id(), reason));
  }
}
