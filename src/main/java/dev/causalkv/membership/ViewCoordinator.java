package dev.causalkv.membership;

import dev.causalkv.core.PeerLink;
import dev.causalkv.core.Replica;
import dev.causalkv.core.ViewState;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Carries out {@code PUT /view} and {@code DELETE /view} (DESIGN.md §6): record the change in the
 * replicated view, push it to every reachable member and wait, bounded, for their
 * acknowledgements, so that {@code GET /view} agrees everywhere reachable when the call returns.
 * Removal first drains the leaving node's writes.
 */
public final class ViewCoordinator {

  /** What a view change did: whether it applied, and the members that acknowledged it. */
  public record Outcome(boolean applied, List<String> acknowledged, List<String> unreachable) {}

  private final Replica replica;
  private final PeerLink peers;
  private final long ackTimeoutMillis;

  public ViewCoordinator(Replica replica, PeerLink peers, long ackTimeoutMillis) {
    this.replica = replica;
    this.peers = peers;
    this.ackTimeoutMillis = ackTimeoutMillis;
  }

  /** Adds {@code member}; not applied when it is already in this node's view. */
  public synchronized Outcome add(String member) {
    if (replica.members().contains(member)) return new Outcome(false, List.of(), List.of());
    Set<String> targets = new LinkedHashSet<>(replica.members());
    ViewState next = replica.changeView(member, true);
    targets.addAll(next.members());
    return push(targets, next);
  }

  /** Drains then removes {@code member}; not applied when it is not in this node's view. */
  public synchronized Outcome remove(String member) {
    List<String> before = replica.members();
    if (!before.contains(member)) return new Outcome(false, List.of(), List.of());
    if (!member.equals(replica.nodeId())) peers.drain(member, ackTimeoutMillis);
    ViewState next = replica.changeView(member, false);
    return push(new LinkedHashSet<>(before), next);
  }

  private Outcome push(Set<String> targets, ViewState view) {
    targets.remove(replica.nodeId());
    List<String> names = new ArrayList<>(targets);
    List<CompletableFuture<Boolean>> acks = new ArrayList<>();
    for (String t : names) acks.add(peers.pushView(t, view));
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ackTimeoutMillis);
    List<String> ok = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      boolean acked;
      try {
        long left = Math.max(0, deadline - System.nanoTime());
        acked = acks.get(i).get(left, TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        acked = false;
      } catch (Exception e) {
        acked = false;
      }
      (acked ? ok : missing).add(names.get(i));
    }
    return new Outcome(true, ok, missing);
  }
}
