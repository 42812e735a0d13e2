package dev.causalkv.wire;

import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.causalkv.core.VectorClock;
import dev.causalkv.security.Keyring;
import dev.causalkv.security.SealKey;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Hands out the client's causal payload as an opaque, sealed, URL-safe token and checks payloads
 * sent back.
 *
 * <p>The token ({@link PayloadToken}) is the clock's canonical bytes, with the id of the key that
 * sealed them, and a 128-bit HMAC-SHA256 seal over exactly those bytes, checked in constant time.
 * The key is secret ({@link #sealKey}): a node's own random key without {@code CLUSTER_TOKEN},
 * verified by the members it was handed to; one derived from the token with it. A plain string
 * arrives intact however a client sends it: as is, as a JSON string ({@code json.dumps(token)}),
 * or as a Python {@code requests} form value (a dict there would be sent as its keys,
 * {@code payload=vc&payload=sig}). The seal exists because a payload with an entry
 * removed by hand is no longer causally closed, and writes made with it break the transitivity of
 * dominance that convergence relies on (docs/design.md §4); a secret key also keeps anyone from
 * making up a history (a forged counter of another node's origin, say) and sealing it.
 *
 * <p>No longer accepted: the object form {@code {"vc": {...}, "sig": "<hex>"}} of the first nodes,
 * whose seal covered an ambiguous text ({@code origin\0counter\n} per entry, so one clock's seal
 * also fitted another) under a key written in this file; and version-1 tokens, whose key was that
 * same public constant, except with a cluster token, whose version-1 seals were keyed by it.
 */
public final class PayloadCodec {

  /** A payload that cannot be accepted; the message is for the client. */
  public static final class InvalidPayload extends RuntimeException {
    public InvalidPayload(String detail) {
      super(detail, null, false, false);
    }
  }

  /**
   * A token sealed by a key this node has not learnt yet: by a member it has not pulled from
   * since that member's key was made. Not a forgery it can prove; the request may wait for the key.
   */
  public static final class UnknownKey extends RuntimeException {
    private final byte[] keyId;
    private final String token;

    UnknownKey(byte[] keyId, String token) {
      super("payload sealed by key " + HexFormat.of().formatHex(keyId) + ", which this node has not learnt yet", null, false, false);
      this.keyId = keyId;
      this.token = token;
    }

    public byte[] keyId() {
      return keyId.clone();
    }

    /** The token as the client sent it (unwrapped from a JSON string): what to hand back. */
    public String token() {
      return token;
    }
  }

  static final int SEAL_BYTES = 16;

  private final Keyring keyring;
  private final SealKey own;
  /** With a cluster token: the key version-1 tokens were sealed with (the token itself); else null. */
  private final byte[] v1Key;
  private final ThreadLocal<Mac> ownMac;
  private final ThreadLocal<Mac> otherMac;
  private final ThreadLocal<Recent> recent = ThreadLocal.withInitial(Recent::new);

  /**
   * Per thread: the last clock encoded or decoded with its token's text, and the last text
   * accepted. A token is a function of its clock, so handing out the same clock object again (a
   * read whose answer's payload is exactly the client's: merge returns the same clock when
   * nothing rises) reuses the text; and a text accepted before is accepted again as the same clock
   * without HMAC, base64 or parse. Only accepted texts are kept, and keys are never withdrawn, so
   * what was accepted once stays acceptable.
   */
  private static final class Recent {
    VectorClock lastVc;
    String lastText;
    VectorClock acceptedVc;
    String acceptedText;
    boolean sealedByOwn;
  }

  /** A codec sealing with {@code keyring}'s own key; {@code clusterToken} (may be null) only for version-1 tokens. */
  public PayloadCodec(Keyring keyring, String clusterToken) {
    this.keyring = keyring;
    this.own = sealKey(keyring);
    this.v1Key = clusterToken == null || clusterToken.isEmpty() ? null : clusterToken.getBytes(StandardCharsets.UTF_8);
    byte[] ownSecret = own.secret();
    this.ownMac = ThreadLocal.withInitial(() -> mac(ownSecret));
    this.otherMac = ThreadLocal.withInitial(() -> {
      try {
        return Mac.getInstance("HmacSHA256");
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("HmacSHA256 unavailable", e);
      }
    });
  }

  /**
   * The one place the seal key is chosen: the keyring's own key, which is the node's random key
   * kept in its data directory without {@code CLUSTER_TOKEN}, and derived from the token with it
   * ({@link Keyring}). Never a constant: anyone who knows the key can seal any history.
   */
  private static SealKey sealKey(Keyring keyring) {
    return keyring.own();
  }

  public Keyring keyring() {
    return keyring;
  }

  /** The token handed to clients. */
  public String encode(VectorClock vc) {
    Recent r = recent.get();
    if (vc == r.lastVc) return r.lastText;
    byte[] body = PayloadToken.body(vc, own.id());
    String text = PayloadToken.text(body, Arrays.copyOf(ownMac.get().doFinal(body), SEAL_BYTES));
    r.lastVc = vc;
    r.lastText = text;
    return text;
  }

  /**
   * Decodes a payload parameter. Absent, blank, {@code ""}, {@code null} and {@code {}} mean no
   * history; a token is accepted raw or as a JSON string. Anything else, or a broken seal, is
   * refused ({@link InvalidPayload}); a token sealed by a key not learnt yet throws {@link UnknownKey}.
   */
  public VectorClock decode(String text) {
    if (text == null) return VectorClock.EMPTY;
    String t = text.strip();
    if (t.isEmpty()) return VectorClock.EMPTY;
    if (t.length() > PayloadToken.MAX_CHARS + 2) {
      throw new InvalidPayload("payload is longer than " + PayloadToken.MAX_CHARS + " characters");
    }
    if (PayloadToken.looksLikeToken(t) && !t.equals("null")) return decodeToken(t);
    JsonElement e = parse(t);
    if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) {
      String inner = e.getAsString().strip();
      if (inner.isEmpty()) return VectorClock.EMPTY;
      if (PayloadToken.looksLikeToken(inner) && !inner.equals("null")) return decodeToken(inner);
      e = parse(inner);
    }
    if (e.isJsonNull()) return VectorClock.EMPTY;
    if (e.isJsonObject() && e.getAsJsonObject().size() == 0) return VectorClock.EMPTY;
    if (e.isJsonObject() && isEmptyObjectForm(e.getAsJsonObject())) return VectorClock.EMPTY; // no history: nothing to forge
    if (e.isJsonObject() && e.getAsJsonObject().has("vc")) {
      throw new InvalidPayload("the object form of a payload ({\"vc\":...,\"sig\":...}) is no longer accepted: its seal could be"
          + " forged; send the token this store hands out, or no payload to start afresh");
    }
    throw new InvalidPayload("payload must be the token this store handed out");
  }

  private VectorClock decodeToken(String text) {
    Recent r = recent.get();
    if (text.equals(r.acceptedText)) return r.acceptedVc;
    r.sealedByOwn = false;
    VectorClock vc = checkToken(text, r);
    r.acceptedText = text;
    r.acceptedVc = vc;
    if (r.sealedByOwn) { // what encode would make of this clock: hand it back as is
      r.lastVc = vc;
      r.lastText = text;
    }
    return vc;
  }

  private VectorClock checkToken(String text, Recent r) {
    PayloadToken.Parts p = PayloadToken.split(text);
    byte[] body = p.body();
    // The seal is checked before the body is parsed: nothing a client made up is interpreted but
    // the version byte and the key id, which only choose the key.
    int version = PayloadToken.version(body);
    if (version == PayloadToken.VERSION) {
      List<SealKey> keys = keyring.withId(PayloadToken.keyId(body));
      if (keys.isEmpty()) throw new UnknownKey(PayloadToken.keyId(body), text);
      for (SealKey k : keys) {
        if (MessageDigest.isEqual(seal(k, body), p.seal())) {
          r.sealedByOwn = k.equals(own);
          return PayloadToken.parse(body);
        }
      }
      throw new InvalidPayload("payload integrity check failed");
    }
    if (version == PayloadToken.VERSION_1) {
      if (v1Key != null && MessageDigest.isEqual(seal(v1Key, body), p.seal())) return PayloadToken.parse(body);
      throw new InvalidPayload("payload from an earlier version of the store, whose seal could be forged: it is no longer"
          + " accepted; send no payload to start afresh");
    }
    throw new InvalidPayload("payload version " + version + " is not supported");
  }

  /** {@code {"vc": {}}} (with or without a seal), as the first nodes handed out for no history. */
  private static boolean isEmptyObjectForm(com.google.gson.JsonObject o) {
    JsonElement vc = o.get("vc");
    return vc != null && vc.isJsonObject() && vc.getAsJsonObject().size() == 0 && (o.size() == 1 || o.size() == 2 && o.has("sig"));
  }

  private static JsonElement parse(String text) {
    try {
      return JsonParser.parseString(text);
    } catch (JsonParseException | IllegalStateException e) {
      throw new InvalidPayload("payload is neither a token nor JSON");
    }
  }

  /** 128 bits of HMAC-SHA256 over exactly {@code body}. */
  private byte[] seal(SealKey k, byte[] body) {
    if (k.equals(own)) return Arrays.copyOf(ownMac.get().doFinal(body), SEAL_BYTES);
    return seal(k.secret(), body);
  }

  private byte[] seal(byte[] secret, byte[] body) {
    Mac m = otherMac.get();
    try {
      m.init(new SecretKeySpec(secret, "HmacSHA256"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
    return Arrays.copyOf(m.doFinal(body), SEAL_BYTES);
  }

  private static Mac mac(byte[] key) {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(new SecretKeySpec(key, "HmacSHA256"));
      return m;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  /**
   * The clock inside a token, its seal NOT checked: for tools, checkers and tests that read what a
   * node handed out. Nothing decoded this way may be trusted.
   */
  public static VectorClock peek(String token) {
    String t = token.strip();
    if (t.startsWith("\"")) t = parse(t).getAsString();
    if (t.isEmpty()) return VectorClock.EMPTY;
    return PayloadToken.parse(PayloadToken.split(t).body());
  }
}
