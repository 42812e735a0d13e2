package dev.causalkv.protocol;

import dev.causalkv.core.Siblings;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The client operations of docs/design.md §4: reads answered once the payload is covered (parked,
 * holding no thread, until then or the deadline), writes always accepted, DELETE's three cases.
 *
 * <p>Parked reads are indexed by what they wait for: their key (a change of its siblings may
 * cover them) and the first origin their payload needs that this node lacks (a rise of applied
 * there may). A change wakes only the reads it can help; a view change wakes all of them.
 */
final class ClientOps {

  private final NodeCore core;
  private final Map<String, Set<Parked>> byKey = new HashMap<>();
  private final Map<String, Set<Parked>> byOrigin = new HashMap<>();
  private final Set<Parked> all = new LinkedHashSet<>();
  /** Writes that arrived while this node is fenced (being removed); run when the fence lifts. */
  private final ArrayDeque<Event.ClientOp> fenced = new ArrayDeque<>();

  /** A client operation waiting for its payload to be covered. */
  private static final class Parked {
    final Event.ClientOp op;
    final long parkedAtMillis;
    String key;
    String origin;
    boolean done;

    Parked(Event.ClientOp op, long parkedAtMillis) {
      this.op = op;
      this.parkedAtMillis = parkedAtMillis;
    }
  }

  ClientOps(NodeCore core) {
    this.core = core;
  }

  int parkedCount() {
    return all.size();
  }

  /**
   * The answer to a GET or search that needs no step, computed from the last persisted state
   * without any lock; null when the operation must be stepped (it waits, or writes).
   */
  Reply tryRead(Event.ClientOp op) {
    if (op.op() != Event.Op.GET && op.op() != Event.Op.SEARCH) return null;
    if (core.isFailed()) return unavailable(op);
    Replica replica = core.replica();
    if (!core.config().causalOff() && !replica.isPlausible(op.payload())) return invalid(op);
    if (replica.published().mustReconcile()) return null;
    Replica.Read r = replica.readPublished(op.key(), op.payload());
    return r.covered() ? readAnswer(op, r) : null;
  }

  void onOp(Event.ClientOp op) {
    if (core.isFailed()) {
      core.reply(unavailable(op));
      return;
    }
    if (!core.config().causalOff() && !core.replica().isPlausible(op.payload())) {
      core.reply(invalid(op));
      return;
    }
    if (op.op() == Event.Op.PUT) {
      write(op, op.value());
      return;
    }
    Replica.Read r = read(op);
    if (r.covered()) {
      finish(op, r);
      return;
    }
    if (all.size() >= core.config().maxParked()) {
      core.count("client.shed");
      core.reply(new Reply.Unavailable(op.id(), "Node overloaded: too many requests waiting, retry"));
      return;
    }
    Parked p = new Parked(op, core.now());
    index(p, r.blockingOrigin());
    all.add(p);
    core.count("client.parked");
    core.deadlines().at(core.now() + core.config().causalWaitMillis(), () -> timeout(p));
  }

  /** The payload stays uncovered for the whole wait: one last look, then the definite answer. */
  private void timeout(Parked p) {
    if (p.done) return;
    unpark(p);
    core.observe("wait.read.timeout_millis", core.now() - p.parkedAtMillis);
    Event.ClientOp op = p.op;
    Replica.Read r = read(op);
    if (r.covered()) {
      finish(op, r);
    } else if (op.op() == Event.Op.DELETE) {
      write(op, null); // the tombstone still dominates what the client saw
    } else {
      core.count("client.out_of_date");
      core.reply(new Reply.Client(op.id(), Reply.Outcome.OUT_OF_DATE, null, false, outgoing(r.payload()), null, r.siblings()));
    }
  }

  /** Re-checks the parked reads that the keys and origins changed in this step can help; all of them if {@code everything}. */
  void wake(Set<String> keys, Set<String> origins, boolean everything) {
    if (all.isEmpty()) return;
    Set<Parked> candidates = new LinkedHashSet<>();
    if (everything) {
      candidates.addAll(all);
    } else {
      for (String k : keys) candidates.addAll(byKey.getOrDefault(k, Set.of()));
      for (String o : origins) candidates.addAll(byOrigin.getOrDefault(o, Set.of()));
    }
    for (Parked p : candidates) {
      if (p.done) continue;
      Replica.Read r = read(p.op);
      if (r.covered()) {
        unpark(p);
        core.observe("wait.read.ready_millis", core.now() - p.parkedAtMillis);
        finish(p.op, r);
      } else if (!r.blockingOrigin().equals(p.origin)) {
        unindex(p);
        index(p, r.blockingOrigin());
      }
    }
  }

  /**
   * A read in this step. A re-admitted node that has not reconciled yet may still hold versions
   * whose tombstones the members collected while it was away: it answers no read until it has.
   */
  private Replica.Read read(Event.ClientOp op) {
    Replica.Read r = core.replica().read(op.key(), op.payload());
    if (!core.replica().meta().mustReconcile()) return r;
    return new Replica.Read(false, RECONCILING, r.siblings(), r.payload());
  }

  /** The blocking "origin" of reads waiting for reconciliation: woken with everything when it ends. */
  private static final String RECONCILING = "";

  private void finish(Event.ClientOp op, Replica.Read r) {
    if (op.op() == Event.Op.DELETE) {
      if (r.siblings().exists()) {
        write(op, null);
      } else {
        core.reply(new Reply.Client(op.id(), Reply.Outcome.NOT_FOUND, null, false, op.payload(), null, r.siblings()));
      }
      return;
    }
    core.reply(readAnswer(op, r));
  }

  private Reply readAnswer(Event.ClientOp op, Replica.Read r) {
    Version visible = r.siblings().visible();
    boolean exists = visible != null && !visible.isTombstone();
    VectorClock payload = outgoing(r.payload());
    if (op.op() == Event.Op.SEARCH) {
      return new Reply.Client(op.id(), Reply.Outcome.SEARCHED, null, exists, payload, null, r.siblings());
    }
    if (exists) return new Reply.Client(op.id(), Reply.Outcome.VALUE, visible, true, payload, null, r.siblings());
    return new Reply.Client(op.id(), Reply.Outcome.NOT_FOUND, null, false, payload, null, r.siblings());
  }

  /** A read's returned payload: merge(P, VC(S)); never the node's applied (but for the planted bug). */
  private VectorClock outgoing(VectorClock payload) {
    if (core.config().bugs().contains(PlantedBug.PAYLOAD_WITH_APPLIED)) return payload.merge(core.replica().meta().applied());
    return payload;
  }

  /**
   * PUT ({@code value}) or a DELETE's tombstone (null): always accepted while this node is a
   * member; they wait while it is fenced (being removed). A removed node refuses writes: made
   * there, they would stay with a node that no longer exchanges data with the members, and an
   * acknowledged write must reach every member.
   */
  private void write(Event.ClientOp op, String value) {
    if (core.replica().meta().view().isRemoved(core.nodeId())) {
      core.count("client.refused_removed");
      core.reply(new Reply.Unavailable(op.id(),
          "This node was removed from the view: it takes no writes until it is added back; nothing was written, send the write to a member"));
      return;
    }
    if (core.viewChanges().isFenced()) {
      Event.ClientOp waiting = value == null ? withOp(op, Event.Op.DELETE) : op;
      fenced.add(waiting);
      core.deadlines().at(core.now() + ViewChanges.FENCE_WAIT_MILLIS, () -> {
        if (fenced.remove(waiting)) {
          core.count("client.refused_leaving");
          core.reply(new Reply.Unavailable(waiting.id(),
              "This node is being removed from the view; nothing was written: retry at another member"));
        }
      });
      return;
    }
    Siblings prior = core.replica().get(op.key());
    Replica.Write w = core.replica().write(op.key(), value, op.payload(), op.wallMillis());
    if (w == null) {
      core.count("client.write_refused");
      core.reply(new Reply.Client(op.id(), Reply.Outcome.INVALID_PAYLOAD, null, false, VectorClock.EMPTY,
          "the payload claims a history in which this node's next write is already superseded", null));
      return;
    }
    Reply.Outcome outcome = value == null ? Reply.Outcome.DELETED : w.existedBefore() ? Reply.Outcome.UPDATED : Reply.Outcome.ADDED;
    core.reply(new Reply.Client(op.id(), outcome, w.version(), w.existedBefore(), w.version().vc(), null, prior));
  }

  private static Event.ClientOp withOp(Event.ClientOp op, Event.Op kind) {
    return new Event.ClientOp(op.id(), kind, op.key(), null, op.payload(), op.wallMillis());
  }

  /**
   * The fence lifted: the writes that waited for it run now, in arrival order; or, when it lifted
   * because this node was removed, they are refused (nothing written): made here, they would stay
   * with a node that no longer exchanges data with the members.
   */
  void releaseFenced() {
    boolean removed = core.replica().meta().view().isRemoved(core.nodeId());
    while (!fenced.isEmpty() && !core.viewChanges().isFenced()) {
      Event.ClientOp op = fenced.poll();
      if (removed) {
        core.count("client.refused_leaving");
        core.reply(new Reply.Unavailable(op.id(), "This node left the view while the write waited; nothing was written: retry at a member"));
      } else {
        write(op, op.op() == Event.Op.PUT ? op.value() : null);
      }
    }
  }

  /** Answers every parked and fenced request with {@code reason} (storage failed). */
  void failAll(String reason) {
    for (Parked p : new ArrayList<>(all)) {
      unpark(p);
      core.reply(new Reply.Unavailable(p.op.id(), reason));
    }
    while (!fenced.isEmpty()) core.reply(new Reply.Unavailable(fenced.poll().id(), reason));
  }

  /** Answers every parked request as at its deadline (shutdown: a definite answer before the process goes). */
  void expireAll() {
    for (Parked p : new ArrayList<>(all)) timeout(p);
    while (!fenced.isEmpty()) {
      Event.ClientOp op = fenced.poll();
      core.reply(new Reply.Unavailable(op.id(), "Node shutting down"));
    }
  }

  private void index(Parked p, String origin) {
    p.key = p.op.key();
    p.origin = origin;
    byKey.computeIfAbsent(p.key, k -> new LinkedHashSet<>()).add(p);
    byOrigin.computeIfAbsent(origin, k -> new LinkedHashSet<>()).add(p);
  }

  private void unindex(Parked p) {
    remove(byKey, p.key, p);
    remove(byOrigin, p.origin, p);
  }

  private void unpark(Parked p) {
    p.done = true;
    unindex(p);
    all.remove(p);
  }

  private static void remove(Map<String, Set<Parked>> index, String k, Parked p) {
    Set<Parked> l = index.get(k);
    if (l == null) return;
    l.remove(p);
    if (l.isEmpty()) index.remove(k);
  }

  private Reply unavailable(Event.ClientOp op) {
    return new Reply.Unavailable(op.id(), "Storage failed: this node has stopped serving; restart it");
  }

  private Reply invalid(Event.ClientOp op) {
    return new Reply.Client(op.id(), Reply.Outcome.INVALID_PAYLOAD, null, false, VectorClock.EMPTY,
        "payload claims writes of this node that it never made", null);
  }
}
