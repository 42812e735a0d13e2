package dev.causalkv.security;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * One payload seal key: 256 secret bits, the node that made it, and a short public id derived
 * from it (what a token names to say which key sealed it). Immutable.
 */
public final class SealKey {

  public static final int BYTES = 32;
  /** Bytes of the key id: 48 bits, so that two keys of one cluster practically never share one (both are tried if they do). */
  public static final int ID_BYTES = 6;
  private static final byte[] ID_LABEL = "causalkv key id".getBytes(StandardCharsets.UTF_8);
  private static final byte[] TOKEN_LABEL = "causalkv payload seal v2".getBytes(StandardCharsets.UTF_8);

  private final String node;
  private final byte[] secret;
  private final byte[] id;

  public SealKey(String node, byte[] secret) {
    this.node = Objects.requireNonNull(node, "node");
    if (secret.length != BYTES) throw new IllegalArgumentException("a seal key has " + BYTES + " bytes");
    this.secret = secret.clone();
    this.id = Arrays.copyOf(hmac(this.secret, ID_LABEL), ID_BYTES);
  }

  /** A fresh random key made by {@code node}. */
  public static SealKey generate(String node, SecureRandom random) {
    byte[] b = new byte[BYTES];
    random.nextBytes(b);
    return new SealKey(node, b);
  }

  /**
   * The key every node of a cluster with {@code CLUSTER_TOKEN} derives alike: HMAC-SHA256 of a
   * fixed label under the token (HKDF's expand step with one block), so the seal key is never the
   * token itself, which travels in every peer call's header.
   */
  public static SealKey fromClusterToken(String token) {
    return new SealKey("", hmac(token.getBytes(StandardCharsets.UTF_8), TOKEN_LABEL));
  }

  /** HMAC-SHA256 of {@code data} under {@code key}. */
  public static byte[] hmac(byte[] key, byte[] data) {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(new SecretKeySpec(key, "HmacSHA256"));
      return m.doFinal(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  public String node() {
    return node;
  }

  public byte[] secret() {
    return secret.clone();
  }

  public byte[] id() {
    return id.clone();
  }

  public String idHex() {
    return HexFormat.of().formatHex(id);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SealKey k && Arrays.equals(secret, k.secret);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(secret);
  }

  @Override
  public String toString() {
    return "SealKey(" + node + ", id " + idHex() + ")"; // never the secret
  }
}
