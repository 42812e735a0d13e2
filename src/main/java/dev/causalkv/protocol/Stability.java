package dev.causalkv.protocol;

import dev.causalkv.core.Dot;
import dev.causalkv.core.NodeMeta;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.core.ViewState;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Causal stability from the members' reports (docs/design.md §7): what every member is known to
 * have applied, which decides both which tombstones may be dropped and how much of the own-write
 * log no pull will ask for again. One pass over the reports serves both.
 *
 * <p>Each pull request carries the puller's applied VC (durable when sent); the last one per
 * member is kept, and all are forgotten whenever this node's view changes (a report counts only
 * if the puller's view already included this node's). A key is dropped when
 * (1) every sibling is a tombstone,
 * (2) every sibling's vc is covered by every member's report and by this node's applied, so every
 *     member holds these tombstones or something dominating them, and no member will ever again
 *     be sent them or anything they dominate (pulls ship only seq > applied), and
 * (3) this node's applied covers every member's report, so any write concurrent with the
 *     tombstones that a member had made (or applied) before reporting has reached this node
 *     already, where it would be a sibling and block (1).
 * Writes made after a member's report that covers the tombstones come after them causally. To
 * keep that true at a member that has already dropped them, the vcs of dropped tombstones are
 * merged into lastOwnVc, which every later own write includes (it stays causally closed: a union
 * of version vcs). So a later write to the key dominates the dropped tombstones everywhere, and a
 * node that still holds them drops them on merge instead of keeping a sibling. A node removed
 * from the view (serving alone) collects nothing: it may be added back.
 */
final class Stability {

  /** The outcome of one pass: the stable VC (null: nothing may be collected) and the own-log floor (-1: keep all). */
  record Summary(VectorClock stable, long ownLogFloor) {}

  private final String self;
  private final Map<String, VectorClock> reports = new HashMap<>();
  /** Where the next collection step resumes in the store's tombstone index. */
  private Dot gcCursor;

  Stability(String self) {
    this.self = self;
  }

  /** Records {@code applied}, reported by {@code peer} in a pull made when its view was {@code peerView}. */
  void note(String peer, VectorClock applied, ViewState peerView, NodeMeta meta) {
    if (peer.equals(self) || meta.view().isRemoved(self) || !meta.view().contains(peer)) return;
    if (!peerView.merge(meta.view()).equals(peerView)) return;
    reports.put(peer, applied);
  }

  /** The view changed: earlier reports may have been made against another membership. */
  void viewChanged() {
    reports.clear();
  }

  /** The last report of {@code peer}, or null. */
  VectorClock reported(String peer) {
    return reports.get(peer);
  }

  Summary summarize(NodeMeta m) {
    if (m.view().isRemoved(self)) return new Summary(null, m.ownSeq());
    VectorClock stable = m.applied();
    long floor = m.ownSeq();
    boolean stableOk = true;
    for (String member : m.view().members()) {
      if (member.equals(self)) continue;
      VectorClock r = reports.get(member);
      if (r == null) return new Summary(null, -1);
      floor = Math.min(floor, r.get(m.origin()));
      if (!m.applied().dominatesOrEquals(r)) stableOk = false; // (3)
      stable = min(stable, r);
    }
    return new Summary(stableOk ? stable : null, floor);
  }

  /**
   * Drops up to about {@code limit} causally stable tombstoned keys; returns how many. Must run
   * in a step of its own (it reads the store's tombstone index, which pending changes are not in).
   */
  int collect(Replica replica, VectorClock stable, int limit) {
    if (stable == null || stable.isEmpty()) return 0;
    Store store = replica.store();
    List<Store.DotKey> candidates = store.tombstones(stable, gcCursor, limit);
    gcCursor = candidates.size() < limit ? null : candidates.get(candidates.size() - 1).dot();
    Set<String> done = new HashSet<>();
    NodeMeta m = replica.meta();
    VectorClock collected = m.lastOwnVc();
    int dropped = 0;
    for (Store.DotKey c : candidates) {
      if (!done.add(c.key())) continue;
      Siblings s = replica.get(c.key());
      if (s.isEmpty() || !isStable(s, stable)) continue;
      replica.put(c.key(), Siblings.EMPTY);
      collected = collected.merge(s.vc());
      dropped++;
    }
    if (dropped > 0) replica.setMeta(replica.meta().withLastOwnVc(collected));
    return dropped;
  }

  private static boolean isStable(Siblings s, VectorClock stable) {
    for (Version v : s.versions()) {
      if (!v.isTombstone() || !stable.dominatesOrEquals(v.vc())) return false;
    }
    return true;
  }

  static VectorClock min(VectorClock a, VectorClock b) {
    Map<String, Long> m = new HashMap<>();
    for (Map.Entry<String, Long> e : a.asMap().entrySet()) m.put(e.getKey(), Math.min(e.getValue(), b.get(e.getKey())));
    return VectorClock.of(m);
  }
}
