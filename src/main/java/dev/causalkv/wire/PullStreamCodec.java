package dev.causalkv.wire;

import com.google.gson.JsonObject;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.core.ViewState;
import java.nio.charset.StandardCharsets;

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
   * The head: the server's view, the marks (which may be raised only at the end), and the number
   * of keys the server holds, an estimate for progress reports (-1: not sent).
   */
  public record Head(ViewState view, VectorClock marks, long keys) implements Line {}

  /** One version of the answer. */
  public record Ver(Version version) implements Line {}

  /** The end: the marks to raise applied to, the server's whole applied, how many versions were sent. */
  public record End(VectorClock marks, VectorClock applied, long count) implements Line {}

  private PullStreamCodec() {}

  public static byte[] head(ViewState view, VectorClock marks) {
    return head(view, marks, -1);
  }

  /** The head with the server's key count ({@code keys} &lt; 0: left out), so a catching-up puller can report progress. */
  public static byte[] head(ViewState view, VectorClock marks, long keys) {
    JsonObject o = new JsonObject();
    o.add("view", Json.encode(view));
    o.add("head", Json.encode(marks));
    if (keys >= 0) o.addProperty("keys", keys);
    return line(o);
  }

  public static byte[] version(Version v) {
    JsonObject o = new JsonObject();
    o.add("ver", Json.encode(v));
    return line(o);
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
    JsonObject o = Json.object(text);
    try {
      if (o.has("ver")) return new Ver(Json.decodeVersion(o.getAsJsonObject("ver")));
      if (o.has("view")) {
        VectorClock marks = o.has("head") ? Json.decodeVc(o.get("head")) : VectorClock.EMPTY;
        long keys = o.has("keys") ? Json.nonNegativeLong(o.get("keys"), "keys") : -1;
        return new Head(Json.decodeView(o.get("view")), marks, keys);
      }
      if (o.has("marks")) {
        VectorClock marks = Json.decodeVc(o.get("marks"));
        VectorClock applied = o.has("applied") ? Json.decodeVc(o.get("applied")) : marks;
        return new End(marks, applied, Json.nonNegativeLong(o.get("count"), "count"));
      }
    } catch (ClassCastException | IllegalStateException e) {
      throw new Json.DecodeException("malformed pull answer line");
    }
    throw new Json.DecodeException("unknown pull answer line");
  }
}
