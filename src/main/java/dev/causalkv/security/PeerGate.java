package dev.causalkv.security;

import dev.causalkv.core.NodeId;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Decides, without a cluster token, whether a caller is who it says it is, from where its call
 * comes from.
 *
 * <p>A peer call names its sender ({@code from}); it is believed when the call's source address
 * is one of that member's host's addresses (resolved, for DNS names). When it is not, the call
 * may still be the member's own, arriving through NAT (containers that reach each other by ports
 * published on the host see the gateway's address): then this node asks the member, at the
 * address the view lists, whether it sent the call's nonce ({@link PeerNonces}); only the member
 * itself can say yes. The edge remembers a yes for the rest of the TCP connection, so there is one
 * such call-back per connection, not per request. Admin calls are answered for loopback
 * ({@code 127.0.0.1}, {@code ::1}), the members' addresses and the configured {@code ADMIN_FROM}
 * ranges.
 */
public final class PeerGate {

  /** Asks {@code member}, at its listed address, whether it issued {@code nonce} for this node. */
  @FunctionalInterface
  public interface Confirmer {
    CompletableFuture<Boolean> confirm(String member, String nonce);
  }

  /** The outcome of a check: believed, not believed, or cannot tell now (too many call-backs in flight). */
  public enum Verdict { YES, NO, BUSY }

  /** Call-backs in flight at most: each is one short GET to a member. */
  static final int MAX_CONFIRMS_IN_FLIGHT = 64;

  private static final CompletableFuture<Verdict> YES = CompletableFuture.completedFuture(Verdict.YES);
  private static final CompletableFuture<Verdict> NO = CompletableFuture.completedFuture(Verdict.NO);

  private final HostResolver hosts;
  private final Confirmer confirmer;
  private final Executor blocking;
  private final List<AddressRange> adminFrom;
  private final AtomicInteger inFlight = new AtomicInteger();

  public PeerGate(HostResolver hosts, Confirmer confirmer, Executor blocking, List<AddressRange> adminFrom) {
    this.hosts = hosts;
    this.confirmer = confirmer;
    this.blocking = blocking;
    this.adminFrom = List.copyOf(adminFrom);
  }

  /**
   * Whether a call from {@code source} may speak as {@code claimed}: at once when the address
   * says so; else, when {@code mayConfirm} and the call carried a {@code nonce}, by asking the member.
   */
  public CompletableFuture<Verdict> verify(InetAddress source, String claimed, String nonce, boolean mayConfirm) {
    InetAddress src = normal(source);
    String host = NodeId.host(claimed);
    Set<InetAddress> known = hosts.cached(host);
    if (known != null) return known.contains(src) ? YES : confirm(claimed, nonce, mayConfirm);
    CompletableFuture<Set<InetAddress>> resolved;
    try {
      resolved = CompletableFuture.supplyAsync(() -> hosts.resolve(host), blocking);
    } catch (RejectedExecutionException busy) {
      return CompletableFuture.completedFuture(Verdict.BUSY);
    }
    return resolved.thenCompose(addrs -> addrs.contains(src) ? YES : confirm(claimed, nonce, mayConfirm));
  }

  private CompletableFuture<Verdict> confirm(String claimed, String nonce, boolean mayConfirm) {
    if (!mayConfirm || nonce == null || nonce.isEmpty() || nonce.length() > 64) return NO;
    if (inFlight.incrementAndGet() > MAX_CONFIRMS_IN_FLIGHT) {
      inFlight.decrementAndGet();
      return CompletableFuture.completedFuture(Verdict.BUSY);
    }
    CompletableFuture<Boolean> asked;
    try {
      asked = confirmer.confirm(claimed, nonce);
    } catch (RuntimeException e) {
      asked = CompletableFuture.completedFuture(false);
    }
    return asked.handle((ok, err) -> {
      inFlight.decrementAndGet();
      return err == null && Boolean.TRUE.equals(ok) ? Verdict.YES : Verdict.NO;
    });
  }

  /** True for the loopback addresses a local operator uses: 127.0.0.1 and ::1 (not the rest of 127/8, which tests use as distinct hosts). */
  public static boolean isLoopback(InetAddress a) {
    InetAddress n = normal(a);
    byte[] b = n.getAddress();
    if (n instanceof Inet4Address) return b[0] == 127 && b[1] == 0 && b[2] == 0 && b[3] == 1;
    for (int i = 0; i < 15; i++) if (b[i] != 0) return false;
    return b[15] == 1;
  }

  /** Whether {@code source} may call {@code /admin/*} without a token: loopback, {@code ADMIN_FROM}, or a member's address. Blocks (DNS). */
  public boolean adminAllowed(InetAddress source, Collection<String> members) {
    InetAddress src = normal(source);
    if (isLoopback(src)) return true;
    for (AddressRange r : adminFrom) if (r.contains(src)) return true;
    for (String m : members) if (hosts.resolve(NodeId.host(m)).contains(src)) return true;
    return false;
  }

  /** An IPv4-mapped IPv6 address as the IPv4 address it is. */
  static InetAddress normal(InetAddress a) {
    byte[] b = a.getAddress();
    if (b.length == 16) {
      boolean mapped = b[10] == (byte) 0xFF && b[11] == (byte) 0xFF;
      for (int i = 0; i < 10 && mapped; i++) mapped = b[i] == 0;
      if (mapped) {
        try {
          return InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]});
        } catch (UnknownHostException impossible) {
          return a;
        }
      }
    }
    return a;
  }
}
