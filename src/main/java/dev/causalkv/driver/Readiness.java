package dev.causalkv.driver;

import java.util.function.Supplier;

/**
 * Whether this node should get client traffic ({@code GET /ready}): the core says it has caught
 * up once (a complete pull from some peer was merged, or it has no peers), is not failed,
 * reconciling or being removed; and the process is not shutting down.
 *
 * <p>"Caught up once" is deliberately sticky: a node that later loses its peers stays ready,
 * because it keeps serving what it has (the store is available under partition); only a node
 * that has never received the cluster's data, such as a new or wiped node still catching up, is not.
 */
public final class Readiness {

  private final Supplier<String> coreReason;
  private volatile boolean draining;

  public Readiness(Supplier<String> coreReason) {
    this.coreReason = coreReason;
  }

  /** From now on the node is not ready: it is shutting down. */
  public void drain() {
    draining = true;
  }

  public boolean draining() {
    return draining;
  }

  /** Null when ready, else why not (for the 503 answer). */
  public String notReadyReason() {
    if (draining) return "draining: the node is shutting down";
    return coreReason.get();
  }
}
