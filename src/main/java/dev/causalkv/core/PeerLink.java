package dev.causalkv.core;

import java.util.concurrent.CompletableFuture;

/** The peer transport as the membership logic sees it: push a view, drain a node's writes. */
public interface PeerLink {

  /** Sends {@code view} to {@code peer}; completes true once the peer acknowledged it. Never fails exceptionally. */
  CompletableFuture<Boolean> pushView(String peer, ViewState view);

  /**
   * Pulls once, without waiting, everything {@code peer} holds that this node lacks, merging it
   * and raising marks only if the whole answer arrived. Returns true on a complete answer.
   */
  boolean drain(String peer, long timeoutMillis);
}
