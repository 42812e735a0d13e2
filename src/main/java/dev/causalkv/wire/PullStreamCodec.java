package dev.causalkv.wire;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.causalkv.core.NodeId;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.core.ViewState;
import dev.causalkv.security.SealKey;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The pull answer on the wire, shared by the server that streams it and the puller that reads
 * it: one JSON object per line: a head (the server's view and the marks the answer ends with),
 * the versions, and an end line (the marks again, the server's whole applied, and the number of
 * versions sent). The puller raises nothing unless the end line arrives and the count matches.
 */
public final class PullStreamCodec {

  /** One decoded line. */
  public sealed interface Line {}

  /**
   * The head: the server's view, the marks (which may be raised only at the end), the number of
   * keys the server holds (an estimate for progress reports; -1: not sent), and the payload seal
   * keys the server knows (empty with a cluster token, whose key every node derives itself). Seal
   * keys go only in answers to pulls the server admitted: to members.
   */
  public record Head(ViewState view, VectorClock marks, long keys, List<SealKey> sealKeys) implements Line {}

  /** One version of the answer. */
  public record Ver(Version version) implements Line {}

  /** The end: the marks to raise applied to, the server's whole applied, how many versions were sent. */
  public record End(VectorClock marks, VectorClock applied, long count) implements Line {}

  private PullStreamCodec() {}

  /** Most keys a head may carry: one per node that ever joined, with room to spare. */
  public static final int MAX_KEYS = 4096;

  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  public static byte[] head(ViewState view, VectorClock marks) {
    return head(view, marks, -1, List.of());
  }

  /**
   * The head line: {@code keys} is the server's key count (&lt; 0: left out), so a catching-up
   * puller can report progress; {@code sealKeys} travel as {@code [[node id, base64url key], ...]}.
   */
  public static byte[] head(ViewState view, VectorClock marks, long keys, List<SealKey> sealKeys) {
    JsonObject o = new JsonObject();
    o.add("view", Json.encode(view));
    o.add("head", Json.encode(marks));
    if (keys >= 0) o.addProperty("keys", keys);
    if (!sealKeys.isEmpty()) {
      JsonArray a = new JsonArray();
      for (SealKey k : sealKeys) {
        JsonArray pair = new JsonArray();
        pair.add(k.node());
        pair.add(B64.encodeToString(k.secret()));
        a.add(pair);
      }
      o.add("sealKeys", a);
    }
    return line(o);
  }

  /** A version line: {@code {"ver": Json.encode(v)}}, written without building the tree. */
  public static byte[] version(Version v) {
    return VersionLine.encode(v);
  }

  public static byte[] end(VectorClock marks, VectorClock applied, long count) {
    JsonObject o = new JsonObject();
    o.add("marks", Json.encode(marks));
    o.add("applied", Json.encode(applied));
    o.addProperty("count", count);
    return line(o);
  }

  private static byte[] line(JsonObject o) {
    return (o.toString() + "\n").getBytes(StandardCharsets.UTF_8);
  }

  /** Decodes one line; throws {@link Json.DecodeException} for anything malformed. */
  public static Line decode(String text) {
    Version fast = VersionLine.decode(text); // the line nearly every answer is made of
    if (fast != null) return new Ver(fast);
    JsonObject o = Json.object(text);
    try {
      if (o.has("ver")) return new Ver(Json.decodeVersion(o.getAsJsonObject("ver")));
      if (o.has("view")) {
        VectorClock marks = o.has("head") ? Json.peerVc(o.get("head")) : VectorClock.EMPTY;
        long keys = o.has("keys") ? Json.nonNegativeLong(o.get("keys"), "keys") : -1;
        List<SealKey> sealKeys = o.has("sealKeys") ? keys(o.getAsJsonArray("sealKeys")) : List.of();
        return new Head(Json.peerView(o.get("view")), marks, keys, sealKeys);
      }
      if (o.has("marks")) {
        VectorClock marks = Json.peerVc(o.get("marks"));
        VectorClock applied = o.has("applied") ? Json.peerVc(o.get("applied")) : marks;
        return new End(marks, applied, Json.nonNegativeLong(o.get("count"), "count"));
      }
    } catch (ClassCastException | IllegalStateException | IllegalArgumentException e) {
      throw new Json.DecodeException("malformed pull answer line");
    }
    throw new Json.DecodeException("unknown pull answer line");
  }

  private static List<SealKey> keys(JsonArray a) {
    if (a.size() > MAX_KEYS) throw new Json.DecodeException("pull answer head carries too many keys");
    List<SealKey> out = new ArrayList<>();
    for (JsonElement e : a) {
      JsonArray pair = e.getAsJsonArray();
      String node = pair.get(0).getAsString();
      if (pair.size() != 2 || !NodeId.isValid(node)) throw new Json.DecodeException("key of a malformed node id");
      byte[] k = B64D.decode(pair.get(1).getAsString());
      if (k.length != SealKey.BYTES) throw new Json.DecodeException("key of bad length");
      out.add(new SealKey(node, k));
    }
    return out;
  }
}
