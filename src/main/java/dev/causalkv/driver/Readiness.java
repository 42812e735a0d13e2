package dev.causalkv.driver;

import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Whether this node should get client traffic ({@code GET /ready}): it has caught up once (a complete
 * pull from some peer was merged, or it has no peers) and it is not shutting down.
 *
 * <p>"Caught up once" is deliberately sticky: a node that later loses its peers stays ready, because
 * it keeps serving what it has (the store is available under partition, DESIGN.md §1); only a node
 * that has never received the cluster's data, such as a new or wiped node still catching up, is not.
 */
public final class Readiness {

  private final BooleanSupplier caughtUpOnce;
  private volatile boolean draining;

  public Readiness(BooleanSupplier caughtUpOnce) {
    this.caughtUpOnce = caughtUpOnce;
  }

  /** From now on the node is not ready: it is shutting down. */
  public void drain() {
    draining = true;
  }

  public boolean draining() {
    return draining;
  }

  /** Null when ready, else why not (for the 503 answer). */
  public String notReadyReason(List<String> peers) {
    if (draining) return "draining: the node is shutting down";
    if (peers.isEmpty() || caughtUpOnce.getAsBoolean()) return null;
    return "catching up: no complete pull from any peer yet (peers: " + String.join(",", peers) + ")";
  }
}
