package dev.causalkv.wire;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.causalkv.core.VectorClock;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Encodes the client's causal payload as {@code {"vc": {...}, "sig": "..."}} and checks it back.
 *
 * <p>The seal is an HMAC over the clock's canonical form, keyed by {@code CLUSTER_TOKEN} when set
 * (else by a fixed key, making it a plain digest). It exists because a payload with an entry
 * removed by hand is no longer causally closed, and writes made with it break the transitivity of
 * dominance that convergence relies on (DESIGN.md §4).
 */
public final class PayloadCodec {

  /** A payload that cannot be accepted; the message is for the client. */
  public static final class InvalidPayload extends RuntimeException {
    public InvalidPayload(String detail) {
      super(detail);
    }
  }

  private static final String DEFAULT_KEY = "causalkv/payload/v1";

  private final ThreadLocal<Mac> mac;

  public PayloadCodec(String clusterToken) {
    byte[] key = (clusterToken == null || clusterToken.isEmpty() ? DEFAULT_KEY : clusterToken)
        .getBytes(StandardCharsets.UTF_8);
    this.mac = ThreadLocal.withInitial(() -> {
      try {
        Mac m = Mac.getInstance("HmacSHA256");
        m.init(new SecretKeySpec(key, "HmacSHA256"));
        return m;
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("HmacSHA256 unavailable", e);
      }
    });
  }

  /** The JSON object handed to clients. */
  public Map<String, Object> encode(VectorClock vc) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("vc", Json.vcMap(vc));
    out.put("sig", seal(vc));
    return out;
  }

  /**
   * Decodes a payload parameter: absent, blank or {@code {}} mean no history; a JSON string
   * holding the object is accepted too. Anything else, or a broken seal, is refused.
   */
  public VectorClock decode(String text) {
    if (text == null || text.isBlank()) return VectorClock.EMPTY;
    JsonElement e = parse(text);
    if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) {
      String inner = e.getAsString();
      if (inner.isBlank()) return VectorClock.EMPTY;
      e = parse(inner);
    }
    if (e.isJsonNull()) return VectorClock.EMPTY;
    if (!e.isJsonObject()) throw new InvalidPayload("payload must be a JSON object");
    JsonObject o = e.getAsJsonObject();
    if (o.size() == 0) return VectorClock.EMPTY;
    if (!o.has("vc")) throw new InvalidPayload("payload has no vc");
    VectorClock vc;
    try {
      vc = Json.decodeVc(o.get("vc"));
    } catch (Json.DecodeException ex) {
      throw new InvalidPayload(ex.getMessage());
    }
    if (vc.isEmpty()) return vc;
    JsonElement sig = o.get("sig");
    if (sig == null || !sig.isJsonPrimitive() || !sig.getAsString().equals(seal(vc))) {
      throw new InvalidPayload("payload integrity check failed");
    }
    return vc;
  }

  private static JsonElement parse(String text) {
    try {
      return JsonParser.parseString(text);
    } catch (JsonParseException | IllegalStateException e) {
      throw new InvalidPayload("payload is not JSON");
    }
  }

  /** The seal of a clock: 128 bits of HMAC-SHA256 over its sorted entries, in hex. */
  public String seal(VectorClock vc) {
    StringBuilder canonical = new StringBuilder();
    for (Map.Entry<String, Long> e : vc.asMap().entrySet()) {
      canonical.append(e.getKey()).append('\u0000').append(e.getValue()).append('\n');
    }
    Mac m = mac.get();
    byte[] h = m.doFinal(canonical.toString().getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(h, 0, 16);
  }
}
