package dev.causalkv.core;

import java.util.Objects;

/**
 * The small per-node state persisted with every commit: who this node writes as, how far its own
 * sequence has gone, the history of its last own write, what it has applied, and its view.
 */
public record NodeMeta(String origin, long ownSeq, VectorClock lastOwnVc, VectorClock applied, ViewState view) {

  public NodeMeta {
    Objects.requireNonNull(origin, "origin");
    Objects.requireNonNull(lastOwnVc, "lastOwnVc");
    Objects.requireNonNull(applied, "applied");
    Objects.requireNonNull(view, "view");
    if (ownSeq < 0) throw new IllegalArgumentException("ownSeq < 0");
  }

  public NodeMeta withApplied(VectorClock a) {
    return new NodeMeta(origin, ownSeq, lastOwnVc, a, view);
  }

  public NodeMeta withView(ViewState v) {
    return new NodeMeta(origin, ownSeq, lastOwnVc, applied, v);
  }
}
