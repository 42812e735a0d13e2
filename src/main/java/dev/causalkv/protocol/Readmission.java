package dev.causalkv.protocol;

import dev.causalkv.core.Dot;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import java.util.Set;

/**
 * The reconciliation of a node added back to the view (docs/design.md §6): after its first
 * complete catch-up from an empty position, it drops what the member reflects but no longer holds.
 */
final class Readmission {

  private Readmission() {}

  /**
   * The peer's answer held every live version it had, and its marks say what it reflects. A
   * version held here that the marks cover but the answer did not carry is one the peer superseded
   * and then dropped, by garbage collection of the tombstone that superseded it while this node
   * was out of the view: drop it here too, or the deleted value would come back. Versions the marks
   * do not cover are writes the peer never saw (this node's own while it was away, among them) and
   * stay, to flow to the members. Returns how many keys changed; clears the reconcile flag.
   */
  static int reconcile(Replica replica, VectorClock marks, Set<Dot> confirmed) {
    int changed = 0;
    try (Store.Scan scan = replica.store().scan()) {
      while (scan.hasNext()) {
        Siblings stored = scan.next();
        if (stored.isEmpty()) continue;
        String key = stored.versions().get(0).key();
        Siblings s = replica.get(key);
        Siblings kept = Siblings.EMPTY;
        boolean dropped = false;
        for (Version v : s.versions()) {
          if (marks.covers(v.dot()) && !confirmed.contains(v.dot())) dropped = true;
          else kept = kept.merge(v);
        }
        if (dropped) {
          replica.put(key, kept);
          changed++;
        }
      }
    }
    replica.setMeta(replica.meta().withReconcile(false));
    return changed;
  }
}
