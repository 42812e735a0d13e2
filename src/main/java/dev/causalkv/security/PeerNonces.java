package dev.causalkv.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The nonces this node puts on its peer calls ({@value #HEADER}), so that a peer that sees the
 * call come from an address other than this node's (through NAT: the course's containers reach
 * each other by published host ports) can ask this node, at its listed address, whether the call
 * was its own ({@code GET /internal/confirm}). One nonce per peer at a time, renewed every
 * {@link #ROTATE_MILLIS}; the previous one is still confirmed for as long again, so a call made
 * just before a renewal confirms too. Thread-safe.
 */
public final class PeerNonces {

  public static final String HEADER = "X-Peer-Nonce";
  static final long ROTATE_MILLIS = 30_000;
  /** Peers tracked at most (this node calls only the members of its view). */
  static final int MAX_PEERS = 10_000;

  private record Pair(String current, String previous, long madeAtMillis) {}

  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private final LongSupplier clockMillis;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, Pair> byPeer = new ConcurrentHashMap<>();

  public PeerNonces(LongSupplier clockMillis) {
    this.clockMillis = clockMillis;
  }

  public static PeerNonces system() {
    return new PeerNonces(() -> System.nanoTime() / 1_000_000);
  }

  /** The nonce to send on a call to {@code peer} now. */
  public String nonceFor(String peer) {
    long now = clockMillis.getAsLong();
    if (byPeer.size() >= MAX_PEERS && !byPeer.containsKey(peer)) byPeer.clear(); // calls in flight merely fail to confirm once
    Pair p = byPeer.compute(peer, (k, old) -> old != null && now - old.madeAtMillis() < ROTATE_MILLIS ? old
        : new Pair(fresh(), old == null ? null : old.current(), now));
    return p.current();
  }

  /** True when {@code nonce} is one this node sent {@code peer} recently. */
  public boolean issued(String peer, String nonce) {
    if (peer == null || nonce == null) return false;
    Pair p = byPeer.get(peer);
    if (p == null) return false;
    long age = clockMillis.getAsLong() - p.madeAtMillis();
    if (age >= 2 * ROTATE_MILLIS) return false;
    byte[] n = nonce.getBytes(StandardCharsets.UTF_8);
    boolean current = MessageDigest.isEqual(n, p.current().getBytes(StandardCharsets.UTF_8));
    boolean previous = p.previous() != null && age < ROTATE_MILLIS
        && MessageDigest.isEqual(n, p.previous().getBytes(StandardCharsets.UTF_8));
    return current || previous;
  }

  private String fresh() {
    byte[] b = new byte[16];
    random.nextBytes(b);
    return B64.encodeToString(b);
  }
}
