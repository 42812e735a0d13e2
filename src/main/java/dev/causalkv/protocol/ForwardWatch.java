package dev.causalkv.protocol;

import dev.causalkv.core.VectorClock;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * A puller's rule for when own-origin pulls are not enough (docs/design.md §5): the peer reported
 * having applied writes of another origin that this node has not caught up on, and still has
 * not after {@code afterMillis}, so some writer is not reaching this node directly and the next
 * pull from this peer must be complete (forwarding). Pure: time is passed in. One per puller.
 */
public final class ForwardWatch {

  private final long afterMillis;
  /** Foreign origins on which the peer was ahead: origin → {peer's position, first seen at}. */
  private final Map<String, long[]> behind = new HashMap<>();

  public ForwardWatch(long afterMillis) {
    this.afterMillis = afterMillis;
  }

  /**
   * Notes an own-origin answer ({@code marks}: the origins it raised; {@code peerApplied}: the
   * peer's whole applied VC) against this node's {@code mine}; true when a complete pull is due.
   */
  public boolean needsComplete(VectorClock marks, VectorClock peerApplied, VectorClock mine, long nowMillis) {
    for (Map.Entry<String, Long> e : peerApplied.asMap().entrySet()) {
      if (marks.get(e.getKey()) > 0) continue; // the peer's own origin: own pulls bring it
      if (e.getValue() > mine.get(e.getKey())) behind.putIfAbsent(e.getKey(), new long[] {e.getValue(), nowMillis});
    }
    boolean stale = false;
    for (Iterator<Map.Entry<String, long[]>> it = behind.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, long[]> e = it.next();
      if (mine.get(e.getKey()) >= e.getValue()[0]) it.remove();
      else if (nowMillis - e.getValue()[1] >= afterMillis) stale = true;
    }
    if (stale) behind.clear();
    return stale;
  }
}
