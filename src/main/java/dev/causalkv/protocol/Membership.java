package dev.causalkv.protocol;

import dev.causalkv.core.NodeMeta;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.ViewState;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The membership rules one node applies to its view (docs/design.md §6): who it exchanges data
 * with, which origins a read may ignore, and whose pulls it admits. Pure functions of the view.
 */
final class Membership {

  private Membership() {}

  /** True once a recorded change removed {@code self}: it then serves alone. */
  static boolean isRemovedSelf(ViewState view, String self) {
    return view.isRemoved(self);
  }

  /** The members {@code self} reports and exchanges data with; only itself once removed. */
  static List<String> members(ViewState view, String self) {
    return isRemovedSelf(view, self) ? List.of(self) : view.members();
  }

  /** The peers to pull from: the members other than {@code self}. */
  static List<String> peers(ViewState view, String self) {
    List<String> out = new ArrayList<>(members(view, self));
    out.remove(self);
    return out;
  }

  /** The node id part of an origin ({@code nodeId#incarnation}). */
  static String nodeOf(String origin) {
    int i = origin.lastIndexOf('#');
    return i < 0 ? origin : origin.substring(0, i);
  }

  /** The entries of {@code vc} that belong to origins of node {@code node}. */
  static VectorClock originsOf(VectorClock vc, String node) {
    VectorClock out = VectorClock.EMPTY;
    for (Map.Entry<String, Long> e : vc.asMap().entrySet()) {
      if (nodeOf(e.getKey()).equals(node)) out = out.with(e.getKey(), e.getValue());
    }
    return out;
  }

  /**
   * How much of origin {@code o}'s history, up to {@code need}, a read must find reflected here.
   * All of it, normally. For a removed node, only what its remover had drained: learning of a
   * removal (pushed, or piggybacked on a pull) does not bring the drained writes with it, so
   * ignoring the origin outright would let a read miss a write the remover holds. A node that
   * is itself removed still holds its reads to the whole payload: it serves alone, and a client
   * that saw writes it lacks gets "Payload out of date" rather than an older value.
   */
  static long mustReflect(NodeMeta m, String self, String o, long need) {
    ViewState.Entry e = m.view().entries().get(nodeOf(o));
    if (e != null && !e.present()) return Math.min(need, e.drained().get(o));
    return need;
  }

  /**
   * True when {@code incoming}, merged into {@code current}, (re)admits {@code self}: a newer,
   * recorded entry saying it is present. Whether or not this node ever learnt that it had been
   * removed, it may hold versions whose tombstones the members collected while it was away, so
   * it must reconcile before its data flows again (docs/design.md §6, re-admission).
   */
  static boolean readmits(ViewState current, ViewState merged, String self) {
    ViewState.Entry before = current.entries().get(self);
    ViewState.Entry after = merged.entries().get(self);
    if (after == null || !after.present() || after.counter() == 0) return false;
    return before == null || !after.equals(before);
  }
}
