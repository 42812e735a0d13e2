package dev.causalkv.wire;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.causalkv.core.NodeId;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.ViewState;
import dev.causalkv.protocol.PullRequest;
import dev.causalkv.protocol.Reply;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The JSON bodies of the peer messages other than the pull answer: pull requests, view pushes, forwarded view changes. */
public final class PeerCodec {

  private PeerCodec() {}

  public static String encode(PullRequest r) {
    JsonObject o = new JsonObject();
    o.addProperty("from", r.from());
    o.add("applied", Json.encode(r.since()));
    o.add("seen", Json.encode(r.seen()));
    o.add("view", Json.encode(r.view()));
    o.addProperty("waitMs", r.waitMillis());
    o.addProperty("mode", r.mode().name().toLowerCase(Locale.ROOT));
    if (r.leaving()) o.addProperty("leaving", true);
    return o.toString();
  }

  /** Decodes a pull request; throws {@link Json.DecodeException} saying what is wrong. */
  public static PullRequest decodePullRequest(String text, long maxWaitMillis) {
    JsonObject o = Json.object(text);
    String from = member(o);
    try {
      VectorClock since = Json.peerVc(o.get("applied"));
      VectorClock seen = o.has("seen") ? Json.peerVc(o.get("seen")) : VectorClock.EMPTY;
      ViewState view = o.has("view") ? Json.peerView(o.get("view")) : ViewState.EMPTY;
      long wait = o.has("waitMs") ? Math.min(maxWaitMillis, Json.nonNegativeLong(o.get("waitMs"), "waitMs")) : 0;
      PullRequest.Mode mode = PullRequest.Mode.ALL;
      if (o.has("mode")) {
        String m = o.get("mode").getAsString().toUpperCase(Locale.ROOT);
        try {
          mode = PullRequest.Mode.valueOf(m);
        } catch (IllegalArgumentException e) {
          throw new Json.DecodeException("unknown mode " + m.toLowerCase(Locale.ROOT));
        }
      }
      boolean leaving = o.has("leaving") && o.get("leaving").getAsBoolean();
      return new PullRequest(from, since, seen, view, mode, wait, leaving);
    } catch (Json.DecodeException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new Json.DecodeException("malformed pull request");
    }
  }

  public static String encodePush(String from, ViewState view) {
    JsonObject o = new JsonObject();
    o.addProperty("from", from);
    o.add("view", Json.encode(view));
    return o.toString();
  }

  /** A view push's sender and view. */
  public record Push(String from, ViewState view) {}

  public static Push decodePush(String text) {
    JsonObject o = Json.object(text);
    return new Push(member(o), Json.peerView(o.get("view")));
  }

  /** The answer to a forwarded view change, as the member that carried it out sends it back. */
  public static JsonObject encode(Reply.ViewChange r) {
    JsonObject o = new JsonObject();
    o.addProperty("applied", r.applied());
    o.add("acknowledged", strings(r.acknowledged()));
    o.add("unreachable", strings(r.unreachable()));
    if (r.warning() != null) o.addProperty("warning", r.warning());
    return o;
  }

  public static Reply.ViewChange decodeViewChange(long id, String text) {
    JsonObject o = Json.object(text);
    try {
      String warning = o.has("warning") && !o.get("warning").isJsonNull() ? o.get("warning").getAsString() : null;
      return new Reply.ViewChange(id, o.get("applied").getAsBoolean(), list(o.get("acknowledged")), list(o.get("unreachable")), warning);
    } catch (RuntimeException e) {
      throw new Json.DecodeException("malformed view change answer");
    }
  }

  private static JsonArray strings(List<String> l) {
    JsonArray a = new JsonArray();
    for (String s : l) a.add(s);
    return a;
  }

  private static List<String> list(JsonElement e) {
    List<String> out = new ArrayList<>();
    if (e != null && e.isJsonArray()) for (JsonElement x : e.getAsJsonArray()) out.add(x.getAsString());
    return out;
  }

  /** The sender's node id, which must be a well-formed {@code host:port}. */
  private static String member(JsonObject o) {
    String from = string(o, "from");
    if (!NodeId.isValid(from)) throw new Json.DecodeException("from is not a node id (expected host:port)");
    return from;
  }

  static String string(JsonObject o, String field) {
    if (!o.has(field) || !o.get(field).isJsonPrimitive()) throw new Json.DecodeException("missing " + field);
    return o.get(field).getAsString();
  }
}
