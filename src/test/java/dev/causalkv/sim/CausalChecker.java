package dev.causalkv.sim;

import dev.causalkv.core.Dot;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The causal checker, outside the system under test. It builds its own happens-before relation
 * over the writes of a recorded history and never consults the replicas' vector clocks to do so:
 *
 * <ul>
 *   <li>session order: everything a session did or saw precedes its next operation;
 *   <li>reads-from: a read that returns siblings (or a payload built from them) has seen those
 *       writes and everything before them (values are unique, writes are named by the dot the
 *       store acknowledged);
 *   <li>overwrite: a write at node R follows the versions of its key R held at that moment
 *       (what the harness observed, the same as a read) — this is the dominance relation;
 *   <li>origin order: a node's writes follow its previous writes.
 * </ul>
 *
 * From it, it checks every operation as it completes: a successful read reflects every write to
 * its key in the session's causal past (read-your-writes, monotonic reads, writes-follow-reads
 * and transitive causality are the cases of this rule); every payload handed out names exactly
 * the session's causal past (so it is causally closed and never shrinks); every write's vc names
 * exactly its causal past. After convergence, every node's siblings of a key are exactly the
 * writes to that key no other write follows, so no acknowledged write is lost.
 */
final class CausalChecker {

  /** One acknowledged write as the checker knows it. */
  record Write(int id, int opId, String key, String value, Dot dot, VectorClock vc, long ts, int session) {
    String describe() {
      return "w" + id + "(" + key + "=" + (value == null ? "<tombstone>" : value) + " dot=" + dot + " ts=" + ts + " op#" + opId + ")";
    }
  }

  /** A violation: what rule, and the operations that show it. */
  record Anomaly(String rule, String detail, List<Integer> opIds) {
    @Override
    public String toString() {
      return rule + ": " + detail + " ops=" + opIds;
    }
  }

  private final List<Write> writes = new ArrayList<>();
  private final List<BitSet> past = new ArrayList<>(); // past(w), without w
  private final Map<Dot, Integer> byDot = new HashMap<>();
  private final Map<String, Integer> lastByOrigin = new HashMap<>();
  private final BitSet[] sessionPast;
  private final BitSet[] sessionOwn;
  private final BitSet[] sessionSeen;
  private final List<Anomaly> anomalies = new ArrayList<>();
  /**
   * key → the tombstones (with their pasts) some node garbage-collected. They were causally
   * stable: every member reflects them, so absence reflects them anywhere from then on (a node
   * that catches up later may never see them), and nothing they overwrote may show up again.
   */
  private final Map<String, BitSet> collected = new HashMap<>();
  /** key → what collected tombstones overwrote (their pasts, without them): must never be read again. */
  private final Map<String, BitSet> collectedOverwrote = new HashMap<>();
  /** The collected tombstones themselves. */
  private final BitSet collectedTombstones = new BitSet();
  /** origin → collected tombstones (with pasts) its next write follows (they went into lastOwnVc). */
  private final Map<String, BitSet> originCollected = new HashMap<>();
  /**
   * Writes lost by design: made at a node that was killed for good and then removed before any
   * other node received them (the removal's answer said so). They are out of the history that
   * reads and convergence must reflect.
   */
  private final BitSet forfeited = new BitSet();
  /**
   * Writes a read may miss by design: those of a removed node beyond the marks its removal
   * drained (reads then ignore them), whether or not they later reach the members after all.
   */
  private final BitSet readExcused = new BitSet();
  /** Anomalies that hold only while their culprit write is not forfeited. */
  private final Map<Anomaly, Integer> conditional = new java.util.IdentityHashMap<>();
  /** Writes answered as indefinite (storage failed while making them durable), and those of them seen since. */
  private final BitSet indefinite = new BitSet();
  private final BitSet observed = new BitSet();

  CausalChecker(int sessions) {
    sessionPast = new BitSet[sessions];
    sessionOwn = new BitSet[sessions];
    sessionSeen = new BitSet[sessions];
    for (int i = 0; i < sessions; i++) {
      sessionPast[i] = new BitSet();
      sessionOwn[i] = new BitSet();
      sessionSeen[i] = new BitSet();
    }
  }

  List<Anomaly> anomalies() {
    return anomalies;
  }

  List<Write> writes() {
    return writes;
  }

  int writeCount() {
    return writes.size();
  }

  private void fail(String rule, String detail, Integer... ops) {
    anomalies.add(new Anomaly(rule, detail, List.of(ops)));
  }

  /**
   * An anomaly that holds only if write {@code culprit} is part of the history: a read that missed
   * it, say. If that write later turns out to have been lost by design (its node removed before
   * it could be drained, learnt when the removal answers), the anomaly is dropped.
   */
  private void failUnlessForfeited(int culprit, String rule, String detail, Integer... ops) {
    Anomaly a = new Anomaly(rule, detail, List.of(ops));
    anomalies.add(a);
    conditional.put(a, culprit);
  }

  /** Drops the anomalies whose culprit was forfeited since they were recorded. */
  private void dropForfeited() {
    for (var it = conditional.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      if (forfeited.get(e.getValue()) || readExcused.get(e.getValue())) {
        anomalies.remove(e.getKey());
        it.remove();
      }
    }
  }

  /** The write with this dot, or -1 (and an anomaly) when no client ever made it. */
  private int idOf(Dot d, int opId) {
    Integer id = byDot.get(d);
    if (id == null) {
      fail("phantom write", "the store handed out version " + d + " that no acknowledged write made", opId);
      return -1;
    }
    return id;
  }

  /** w and everything before it. */
  private BitSet closure(int w) {
    BitSet b = (BitSet) past.get(w).clone();
    b.set(w);
    return b;
  }

  /** The writes named by a vc, i.e. every dot (o, 1..vc[o]); unknown dots are anomalies. */
  private BitSet dotsOf(VectorClock vc, int opId, String what) {
    BitSet b = new BitSet();
    for (Map.Entry<String, Long> e : vc.asMap().entrySet()) {
      for (long s = 1; s <= e.getValue(); s++) {
        Integer id = byDot.get(new Dot(e.getKey(), s));
        if (id == null) {
          fail("phantom dot", what + " " + vc + " names " + e.getKey() + ":" + s + ", which no acknowledged write made", opId);
          return b;
        }
        b.set(id);
      }
    }
    return b;
  }

  private String describe(BitSet set) {
    StringBuilder sb = new StringBuilder("{");
    for (int i = set.nextSetBit(0); i >= 0; i = set.nextSetBit(i + 1)) {
      if (sb.length() > 1) sb.append(", ");
      sb.append(writes.get(i).describe());
    }
    return sb.append('}').toString();
  }

  /** The session's payload must name exactly its causal past: no less (lost history), no more (not closed). */
  private void checkPayload(int session, VectorClock handedOut, int opId, String what) {
    BitSet named = dotsOf(handedOut, opId, what);
    // Closure: for every write the payload names, it also covers that write's vc. Checking the
    // last named write of each origin suffices: an origin's vcs only grow from write to write
    // (write() checks each vc against the origin-ordered causal past).
    for (Map.Entry<String, Long> e : handedOut.asMap().entrySet()) {
      Integer top = byDot.get(new Dot(e.getKey(), e.getValue()));
      if (top != null && !handedOut.dominatesOrEquals(writes.get(top).vc())) {
        fail("payload not causally closed", what + " " + handedOut + " names " + writes.get(top).describe()
            + " but not all of its history " + writes.get(top).vc(), opId, writes.get(top).opId());
        break;
      }
    }
    BitSet expected = sessionPast[session];
    if (!named.equals(expected)) {
      BitSet missing = (BitSet) expected.clone();
      missing.andNot(named);
      BitSet extra = (BitSet) named.clone();
      extra.andNot(expected);
      fail(missing.isEmpty() ? "payload beyond the causal past" : "payload lost history",
          what + " " + handedOut + " differs from the session's causal past: missing " + describe(missing)
              + ", claims beyond it " + describe(extra),
          opId);
    }
  }

  /**
   * A write acknowledged at a node that held {@code before} for its key just before it, made with
   * the session's payload.
   */
  void write(int opId, int session, Siblings before, Version v) {
    record(opId, session, before, v, true);
  }

  /**
   * A write whose node's storage failed while making it durable: the client was told it may or
   * may not have been made. It is in the history (a replica may show it), but not in the
   * session's past, and it is excused from convergence until something observes it. If its node
   * restarts without it, its dot may be handed out again: that is no reuse, as nobody saw it.
   */
  void indefiniteWrite(int opId, int session, Siblings before, Version v) {
    record(opId, session, before, v, false);
    int id = byDot.get(v.dot());
    forfeited.set(id);
    indefinite.set(id);
  }

  private void record(int opId, int session, Siblings before, Version v, boolean acknowledged) {
    Integer earlier = byDot.get(v.dot());
    if (earlier != null && indefinite.get(earlier) && !observed.get(earlier)) {
      // the indefinite write never became durable: its dot is free again
      byDot.remove(v.dot());
      Write gone = writes.get(earlier);
      lastByOrigin.put(v.dot().origin(), previousOf(gone));
      if (lastByOrigin.get(v.dot().origin()) == null) lastByOrigin.remove(v.dot().origin());
    }
    int id = writes.size();
    Write w = new Write(id, opId, v.key(), v.value(), v.dot(), v.vc(), v.ts(), session);
    if (byDot.containsKey(v.dot())) {
      fail("duplicate dot", "dot " + v.dot() + " reused by " + w.describe() + ", first " + writes.get(byDot.get(v.dot())).describe(),
          opId, writes.get(byDot.get(v.dot())).opId());
    }
    Integer prev = lastByOrigin.get(v.dot().origin());
    long expectSeq = prev == null ? 1 : writes.get(prev).dot().seq() + 1;
    if (v.dot().seq() != expectSeq) fail("sequence gap", "origin " + v.dot().origin() + " wrote seq " + v.dot().seq() + ", expected " + expectSeq, opId);
    BitSet p = (BitSet) sessionPast[session].clone();
    for (Version b : before.versions()) {
      int bid = idOf(b.dot(), opId);
      if (bid >= 0) p.or(closure(bid));
    }
    if (prev != null) p.or(closure(prev));
    BitSet gc = originCollected.get(v.dot().origin());
    if (gc != null) p.or(gc);
    writes.add(w);
    past.add(p);
    byDot.put(v.dot(), id);
    lastByOrigin.put(v.dot().origin(), id);
    BitSet named = dotsOf(v.vc(), opId, "write vc");
    named.clear(id);
    if (!named.equals(p)) {
      BitSet missing = (BitSet) p.clone();
      missing.andNot(named);
      BitSet extra = (BitSet) named.clone();
      extra.andNot(p);
      fail("write history wrong", w.describe() + " vc=" + v.vc() + " misses " + describe(missing) + ", claims " + describe(extra), opId);
    }
    if (!acknowledged) return;
    sessionPast[session].or(closure(id));
    sessionOwn[session].set(id);
    checkPayload(session, v.vc(), opId, "write payload");
  }

  /** The write of the same origin just before {@code w}, or null. */
  private Integer previousOf(Write w) {
    for (int i = w.id() - 1; i >= 0; i--) {
      Write x = writes.get(i);
      if (x.dot().origin().equals(w.dot().origin()) && byDot.get(x.dot()) != null && byDot.get(x.dot()) == i) return i;
    }
    return null;
  }

  /**
   * A read of {@code key} that returned {@code siblings}. When {@code covered} (a 200/404
   * answer) every write to the key in the session's past must be reflected in them. When
   * {@code adopt}, the returned payload was merge(P, VC(S)) and the session now depends on S.
   */
  void read(int opId, int session, String node, String key, Siblings siblings, boolean covered, boolean adopt, VectorClock payloadOut) {
    read(opId, session, node, key, siblings, covered, adopt, payloadOut, Map.of());
  }

  /**
   * As above, with the drained marks of the removals the reading node knew of: node id → what was
   * drained of its origins. A write of a removed node beyond them may be missed by design (the
   * read ignores it: docs/design.md §6).
   */
  void read(int opId, int session, String node, String key, Siblings siblings, boolean covered, boolean adopt, VectorClock payloadOut,
      Map<String, VectorClock> removedDrained) {
    BitSet gone = collected.getOrDefault(key, new BitSet());
    BitSet reflected = new BitSet();
    BitSet returned = new BitSet();
    for (Version v : siblings.versions()) {
      int id = idOf(v.dot(), opId);
      if (id < 0) continue;
      returned.set(id);
      observe(id);
      Write w = writes.get(id);
      if (!w.key().equals(key)) fail("wrong key", "read of " + key + " returned " + w.describe(), opId, w.opId());
      reflected.or(closure(id));
    }
    for (int x = returned.nextSetBit(0); x >= 0; x = returned.nextSetBit(x + 1)) {
      if (covered && collectedOverwrote.getOrDefault(key, new BitSet()).get(x)) { // an answer that shows state
        fail("deleted key came back", node + " returned " + writes.get(x).describe() + ", which a collected tombstone follows", opId, writes.get(x).opId());
      }
      BitSet p = sessionPast[session];
      for (int i = p.nextSetBit(0); i >= 0; i = p.nextSetBit(i + 1)) {
        if (covered && writes.get(i).key().equals(key) && past.get(i).get(x) && !forfeited.get(i) && !readExcused.get(i)
            && !ignoredHere(writes.get(i), removedDrained)) {
          failUnlessForfeited(i, "stale sibling", "read of " + key + " returned " + writes.get(x).describe() + ", which " + writes.get(i).describe()
              + " in the session's causal past overwrote", opId, writes.get(x).opId(), writes.get(i).opId());
          break;
        }
      }
    }
    reflected.or(gone); // a collected tombstone is reflected: the key is deleted here for good
    if (covered) {
      BitSet p = sessionPast[session];
      for (int i = p.nextSetBit(0); i >= 0; i = p.nextSetBit(i + 1)) {
        Write w = writes.get(i);
        if (!w.key().equals(key) || reflected.get(i) || forfeited.get(i) || readExcused.get(i)) continue;
        if (ignoredHere(w, removedDrained)) continue;
        String rule = sessionOwn[session].get(i) ? "read-your-writes"
            : sessionSeen[session].get(i) ? "monotonic reads"
            : "causal read (writes-follow-reads / transitive)";
        Version vis = siblings.visible();
        failUnlessForfeited(i, rule, "read of " + key + " answered " + (vis == null ? "nothing (404)" : vis.value() == null ? "a tombstone (404)" : "'" + vis.value() + "'")
            + " from siblings " + siblings.versions().stream().map(Version::dot).toList()
            + " that do not reflect " + w.describe() + " in the session's causal past", opId, w.opId());
      }
      checkVisible(siblings, opId);
    }
    reflected.andNot(gone);
    for (int x = returned.nextSetBit(0); x >= 0; x = returned.nextSetBit(x + 1)) reflected.or(closure(x));
    if (adopt) {
      sessionPast[session].or(reflected);
      sessionSeen[session].or(returned);
    }
    checkPayload(session, payloadOut, opId, "read payload");
  }

  /**
   * A write thought lost showed up: an indefinite one was made after all, or one of a removed
   * node reached a member anyway; it must now be kept like any other.
   */
  private void observe(int id) {
    if (observed.get(id)) return;
    if (indefinite.get(id) || forfeited.get(id)) observed.set(id);
    forfeited.clear(id);
  }

  /** Reads may miss these writes: their node was removed and they lie beyond what its removal drained. */
  void excuseReads(java.util.Set<Dot> dots) {
    for (Dot d : dots) {
      Integer id = byDot.get(d);
      if (id != null) readExcused.set(id);
    }
    dropForfeited();
  }

  /** True for a write already excused from the history (answered as indefinite, or lost by design). */
  boolean excused(Dot d) {
    Integer id = byDot.get(d);
    return id != null && forfeited.get(id);
  }

  private static boolean ignoredHere(Write w, Map<String, VectorClock> removedDrained) {
    String origin = w.dot().origin();
    int hash = origin.lastIndexOf('#');
    VectorClock drained = removedDrained.get(hash < 0 ? origin : origin.substring(0, hash));
    return drained != null && w.dot().seq() > drained.get(origin);
  }

  /** These writes were lost with a node removed while it could not be drained. */
  void forfeit(java.util.Set<Dot> dots) {
    for (Dot d : dots) {
      Integer id = byDot.get(d);
      if (id != null) {
        forfeited.set(id);
        readExcused.set(id);
      }
    }
    dropForfeited();
  }

  /**
   * A re-admitted node dropped these versions while reconciling with a member: each must be one
   * that another write overwrote (its tombstone collected while the node was away); dropping a
   * write no other write follows would lose it.
   */
  void reconciledAway(String node, List<Version> versions) {
    for (Version v : versions) {
      Integer id = byDot.get(v.dot());
      if (id == null || forfeited.get(id)) continue;
      if (collectedTombstones.get(id)) continue; // a tombstone some member collected: gone for good anyway
      boolean overwritten = false;
      for (int j = 0; j < writes.size() && !overwritten; j++) {
        overwritten = j != id && writes.get(j).key().equals(v.key()) && past.get(j).get(id);
      }
      if (!overwritten) {
        fail("reconcile dropped a live write", node + " dropped " + writes.get(id).describe() + ", which no write overwrote",
            writes.get(id).opId());
      }
    }
  }

  /** Node {@code node} (writing as {@code origin}) garbage-collected these keys' siblings. */
  void collected(String node, String origin, List<Siblings> keys) {
    for (Siblings s : keys) {
      BitSet b = new BitSet();
      for (Version v : s.versions()) {
        if (!v.isTombstone()) fail("gc dropped a value", node + " collected " + s + ", which holds a value");
        Integer boxed = byDot.get(v.dot()); // a collection can be seen before the write's answer arrives
        int id = boxed == null ? -1 : boxed;
        if (id >= 0) {
          collectedTombstones.set(id);
          b.or(closure(id));
          collectedOverwrote.computeIfAbsent(v.key(), k -> new BitSet()).or(past.get(id));
        }
      }
      collected.computeIfAbsent(s.versions().get(0).key(), k -> new BitSet()).or(b);
      originCollected.computeIfAbsent(origin, o -> new BitSet()).or(b);
    }
  }

  private void checkVisible(Siblings s, int opId) {
    Version best = null;
    for (Version v : s.versions()) {
      if (best == null || v.ts() > best.ts() || (v.ts() == best.ts() && v.dot().compareTo(best.dot()) > 0)) best = v;
    }
    if (best != s.visible()) fail("visible rule", "siblings " + s + " show " + s.visible() + ", expected " + best, opId);
  }

  /** After convergence: every node's siblings of every key are the writes to it no other write follows. */
  void converged(Map<String, TreeMap<String, Siblings>> stateByNode) {
    for (TreeMap<String, Siblings> state : stateByNode.values()) {
      for (Siblings s : state.values()) {
        for (Version v : s.versions()) {
          Integer id = byDot.get(v.dot());
          if (id != null) observe(id);
        }
      }
    }
    Map<String, BitSet> maximal = new TreeMap<>();
    BitSet dominated = new BitSet();
    for (int i = 0; i < writes.size(); i++) {
      if (forfeited.get(i)) continue; // a lost write dominates nothing the cluster kept
      for (int j = past.get(i).nextSetBit(0); j >= 0; j = past.get(i).nextSetBit(j + 1)) {
        if (writes.get(j).key().equals(writes.get(i).key())) dominated.set(j);
      }
    }
    for (Write w : writes) {
      maximal.computeIfAbsent(w.key(), k -> new BitSet());
      if (!dominated.get(w.id()) && !forfeited.get(w.id())) maximal.get(w.key()).set(w.id());
    }
    for (Map.Entry<String, TreeMap<String, Siblings>> node : stateByNode.entrySet()) {
      for (String k : node.getValue().keySet()) {
        if (!maximal.containsKey(k)) fail("phantom key", node.getKey() + " holds key " + k + " that no client wrote");
      }
      for (Map.Entry<String, BitSet> e : maximal.entrySet()) {
        Siblings s = node.getValue().getOrDefault(e.getKey(), Siblings.EMPTY);
        // Collected tombstones are gone for good and no longer compete for visibility (see the
        // report on concurrent writes of a node added after the collection).
        BitSet allowed = e.getValue();
        BitSet expected = (BitSet) allowed.clone();
        expected.andNot(collectedTombstones);
        e = Map.entry(e.getKey(), expected);
        if (s.isEmpty()) {
          boolean allTombstones = true;
          for (int i = e.getValue().nextSetBit(0); i >= 0; i = e.getValue().nextSetBit(i + 1)) {
            if (writes.get(i).value() != null) allTombstones = false;
          }
          if (!allTombstones) fail("lost write", node.getKey() + " holds nothing for " + e.getKey() + ", whose latest writes " + describe(e.getValue()) + " hold a value");
          continue; // deleted for good, its tombstones collected
        }
        BitSet held = new BitSet();
        BitSet reflected = new BitSet();
        for (Version v : s.versions()) {
          Integer id = byDot.get(v.dot());
          if (id == null) {
            fail("phantom write", node.getKey() + " holds " + v + " that no acknowledged write made");
            continue;
          }
          held.set(id);
          reflected.or(closure(id));
        }
        reflected.or(collected.getOrDefault(e.getKey(), new BitSet()));
        for (Write w : writes) {
          if (w.key().equals(e.getKey()) && !reflected.get(w.id()) && !forfeited.get(w.id())) {
            fail("lost write", node.getKey() + " converged without " + w.describe() + ": siblings " + s, w.opId());
          }
        }
        BitSet beyond = (BitSet) held.clone();
        beyond.andNot(allowed);
        BitSet missing = (BitSet) e.getValue().clone();
        missing.andNot(held);
        if (!beyond.isEmpty() || !missing.isEmpty()) { // maximal writes, less any tombstone collected somewhere
          fail("wrong siblings", node.getKey() + " holds " + describe(held) + " for " + e.getKey() + ", expected the maximal writes " + describe(e.getValue()));
        }
        checkVisible(s, -1);
      }
    }
  }
}
