package dev.causalkv.wire;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.causalkv.core.VectorClock;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Hands out the client's causal payload as an opaque, sealed, URL-safe token and checks payloads
 * sent back.
 *
 * <p>The token ({@link PayloadToken}) is the clock's canonical bytes and a 128-bit HMAC-SHA256 seal
 * over exactly those bytes. A plain string arrives intact however a client sends it: as is, as a
 * JSON string ({@code json.dumps(token)}), or as a Python {@code requests} form value (a dict there
 * would be sent as its keys, {@code payload=vc&payload=sig}). The seal exists because a payload with
 * an entry removed by hand is no longer causally closed, and writes made with it break the
 * transitivity of dominance that convergence relies on (docs/design.md §4).
 *
 * <p>Also accepted, so that payloads handed out before the token keep working: the object form
 * {@code {"vc": {...}, "sig": "<hex>"}} with its old seal, and a JSON string holding it.
 */
public final class PayloadCodec {

  /** A payload that cannot be accepted; the message is for the client. */
  public static final class InvalidPayload extends RuntimeException {
    public InvalidPayload(String detail) {
      super(detail, null, false, false);
    }
  }

  private static final String DEFAULT_KEY = "causalkv/payload/v1";
  static final int SEAL_BYTES = 16;

  /**
   * Per thread: the MAC, the last clock this thread encoded or decoded with its token's text, and
   * the last text it accepted. A token is a function of its clock, so handing out the same clock
   * object again (a read whose answer's payload is exactly the client's: merge returns the same
   * clock when nothing rises) reuses the text; and a text accepted before is accepted again as the
   * same clock without HMAC, base64 or parse (only accepted texts are kept: one this node encoded
   * may still be refused, e.g. past the caps).
   */
  private static final class PerThread {
    final Mac mac;
    VectorClock lastVc;
    String lastText;
    VectorClock acceptedVc;
    String acceptedText;

    PerThread(Mac mac) {
      this.mac = mac;
    }

    void remember(VectorClock vc, String text) {
      lastVc = vc;
      lastText = text;
    }
  }

  private final ThreadLocal<PerThread> local;

  public PayloadCodec(String clusterToken) {
    byte[] key = sealKey(clusterToken);
    this.local = ThreadLocal.withInitial(() -> {
      try {
        Mac m = Mac.getInstance("HmacSHA256");
        m.init(new SecretKeySpec(key, "HmacSHA256"));
        return new PerThread(m);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("HmacSHA256 unavailable", e);
      }
    });
  }

  /**
   * The one place the seal key is chosen: {@code CLUSTER_TOKEN} when set, else a fixed key (the seal
   * is then a plain digest: it catches edits, not forgeries by someone who has read this file).
   */
  private static byte[] sealKey(String clusterToken) {
    return (clusterToken == null || clusterToken.isEmpty() ? DEFAULT_KEY : clusterToken).getBytes(StandardCharsets.UTF_8);
  }

  /** The token handed to clients. */
  public String encode(VectorClock vc) {
    PerThread t = local.get();
    if (vc == t.lastVc) return t.lastText;
    byte[] body = PayloadToken.body(vc);
    String text = PayloadToken.text(body, seal(body));
    t.remember(vc, text);
    return text;
  }

  /**
   * Decodes a payload parameter. Absent, blank, {@code ""}, {@code null} and {@code {}} mean no
   * history; a token is accepted raw or as a JSON string; the old object form as an object or as a
   * JSON string holding it. Anything else, or a broken seal, is refused.
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
    if (!e.isJsonObject()) throw new InvalidPayload("payload must be the token this store handed out");
    return decodeObject(e.getAsJsonObject());
  }

  private VectorClock decodeToken(String text) {
    PerThread t = local.get();
    if (text.equals(t.acceptedText)) return t.acceptedVc;
    PayloadToken.Parts p = PayloadToken.split(text);
    // The seal is checked before the body is parsed: nothing a client made up is interpreted.
    if (!MessageDigest.isEqual(seal(p.body()), p.seal())) throw new InvalidPayload("payload integrity check failed");
    VectorClock vc = PayloadToken.parse(p.body());
    t.remember(vc, text);
    t.acceptedVc = vc;
    t.acceptedText = text;
    return vc;
  }

  /** The old object form, {@code {"vc": {...}, "sig": "<hex>"}}. */
  private VectorClock decodeObject(JsonObject o) {
    if (o.size() == 0) return VectorClock.EMPTY;
    if (!o.has("vc")) throw new InvalidPayload("payload has no vc");
    JsonElement vcJson = o.get("vc");
    if (vcJson.isJsonObject() && vcJson.getAsJsonObject().size() > PayloadToken.MAX_ENTRIES) {
      throw new InvalidPayload("payload has more than " + PayloadToken.MAX_ENTRIES + " entries");
    }
    VectorClock vc;
    try {
      vc = Json.decodeVc(vcJson);
    } catch (Json.DecodeException ex) {
      throw new InvalidPayload(ex.getMessage());
    }
    if (vc.isEmpty()) return vc;
    JsonElement sig = o.get("sig");
    if (sig == null || !sig.isJsonPrimitive() || !sig.getAsJsonPrimitive().isString()
        || !MessageDigest.isEqual(legacySeal(vc).getBytes(StandardCharsets.UTF_8), sig.getAsString().getBytes(StandardCharsets.UTF_8))) {
      throw new InvalidPayload("payload integrity check failed");
    }
    return vc;
  }

  private static JsonElement parse(String text) {
    try {
      return JsonParser.parseString(text);
    } catch (JsonParseException | IllegalStateException e) {
      throw new InvalidPayload("payload is neither a token nor JSON");
    }
  }

  /** 128 bits of HMAC-SHA256 over exactly {@code body}. */
  private byte[] seal(byte[] body) {
    return Arrays.copyOf(local.get().mac.doFinal(body), SEAL_BYTES);
  }

  /**
   * The old object form of a payload, as nodes handed it out before the token; still accepted.
   * Public for tests and for anyone converting stored payloads.
   */
  public Map<String, Object> legacyObject(VectorClock vc) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("vc", Json.vcMap(vc));
    out.put("sig", legacySeal(vc));
    return out;
  }

  /** The old seal: 128 bits of HMAC-SHA256 over the clock's sorted entries as text, in hex. */
  private String legacySeal(VectorClock vc) {
    StringBuilder canonical = new StringBuilder();
    for (Map.Entry<String, Long> e : vc.asMap().entrySet()) {
      canonical.append(e.getKey()).append('\u0000').append(e.getValue()).append('\n');
    }
    byte[] h = local.get().mac.doFinal(canonical.toString().getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(h, 0, SEAL_BYTES);
  }
}
