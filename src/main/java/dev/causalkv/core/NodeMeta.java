package dev.causalkv.core;

import java.util.Objects;

/**
 * The small per-node state persisted with every commit: who this node writes as, how far its own
 * sequence has gone, the history of its last own write, what it has applied, its view, and
 * whether it must reconcile its data with a member before serving peers (after being re-added).
 */
public record NodeMeta(
    String origin, long ownSeq, VectorClock lastOwnVc, VectorClock applied, ViewState view, boolean mustReconcile) {

  public NodeMeta {
    Objects.requireNonNull(origin, "origin");
    Objects.requireNonNull(lastOwnVc, "lastOwnVc");
    Objects.requireNonNull(applied, "applied");
    Objects.requireNonNull(view, "view");
    if (ownSeq < 0) throw new IllegalArgumentException("ownSeq < 0");
  }

  public NodeMeta(String origin, long ownSeq, VectorClock lastOwnVc, VectorClock applied, ViewState view) {
    this(origin, ownSeq, lastOwnVc, applied, view, false);
  }

  public NodeMeta withApplied(VectorClock a) {
    return new NodeMeta(origin, ownSeq, lastOwnVc, a, view, mustReconcile);
  }

  public NodeMeta withView(ViewState v) {
    return new NodeMeta(origin, ownSeq, lastOwnVc, applied, v, mustReconcile);
  }

  public NodeMeta withLastOwnVc(VectorClock vc) {
    return new NodeMeta(origin, ownSeq, vc, applied, view, mustReconcile);
  }

  public NodeMeta withReconcile(boolean due) {
    return new NodeMeta(origin, ownSeq, lastOwnVc, applied, view, due);
  }
}
