package dev.causalkv.wire;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonPrimitive;
import dev.causalkv.core.Dot;
import dev.causalkv.core.NodeId;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.core.ViewState;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/** JSON encodings of the core's values, shared by the HTTP edge, the peer transport and storage. */
public final class Json {

  /** A value that could not be decoded; the message says what was wrong. */
  public static final class DecodeException extends RuntimeException {
    public DecodeException(String message) {
      super(message);
    }
  }

  public static final Gson GSON = new GsonBuilder().disableHtmlEscaping().serializeNulls().create();

  private Json() {}

  /**
   * Serialises answers built from maps, lists, strings, numbers, booleans, nulls and Gson trees.
   * Streams them through a {@link com.google.gson.stream.JsonWriter} instead of Gson's reflective
   * path: a client answer's map-to-text step measured ~13 µs that way, most of a request's cost.
   */
  public static String toJson(Object o) {
    java.io.StringWriter out = new java.io.StringWriter(128);
    try (com.google.gson.stream.JsonWriter w = new com.google.gson.stream.JsonWriter(out)) {
      w.setHtmlSafe(false);
      w.setSerializeNulls(true);
      write(w, o);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e); // a StringWriter does not fail
    }
    return out.toString();
  }

  private static void write(com.google.gson.stream.JsonWriter w, Object o) throws java.io.IOException {
    if (o == null) {
      w.nullValue();
    } else if (o instanceof String str) {
      w.value(str);
    } else if (o instanceof Boolean b) {
      w.value(b);
    } else if (o instanceof Number n) {
      w.value(n);
    } else if (o instanceof Map<?, ?> m) {
      w.beginObject();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        w.name(String.valueOf(e.getKey()));
        write(w, e.getValue());
      }
      w.endObject();
    } else if (o instanceof Iterable<?> it) {
      w.beginArray();
      for (Object x : it) write(w, x);
      w.endArray();
    } else if (o instanceof JsonElement e) {
      com.google.gson.internal.Streams.write(e, w);
    } else {
      GSON.toJson(o, o.getClass(), w);
    }
  }

  public static JsonObject object(String text) {
    try {
      JsonElement e = com.google.gson.JsonParser.parseString(text);
      if (!e.isJsonObject()) throw new DecodeException("expected a JSON object");
      return e.getAsJsonObject();
    } catch (JsonParseException | IllegalStateException | NumberFormatException e) {
      throw new DecodeException("malformed JSON");
    }
  }

  // ---------------------------------------------------------------- vector clocks

  public static JsonObject encode(VectorClock vc) {
    JsonObject o = new JsonObject();
    for (int i = 0; i < vc.size(); i++) o.addProperty(vc.originAt(i), vc.counterAt(i));
    return o;
  }

  public static Map<String, Long> vcMap(VectorClock vc) {
    return new LinkedHashMap<>(vc.asMap());
  }

  /** A clock as this node stored it: structure checked, contents trusted. */
  public static VectorClock decodeVc(JsonElement e) {
    if (e == null || e.isJsonNull()) return VectorClock.EMPTY;
    if (!e.isJsonObject()) throw new DecodeException("vector clock must be a JSON object");
    VectorClock.Builder b = VectorClock.builder();
    for (Map.Entry<String, JsonElement> x : e.getAsJsonObject().entrySet()) {
      b.put(x.getKey(), nonNegativeLong(x.getValue(), "counter of " + x.getKey()));
    }
    return b.build();
  }

  /** Entries a clock from a peer may have at most: one per origin that ever wrote, with room to spare. */
  public static final int MAX_PEER_VC_ENTRIES = 100_000;

  /**
   * A clock from a peer: every origin well-formed ({@code host:port#incarnation}) and every counter
   * at most {@link VectorClock#MAX_COUNTER}, so that nothing a message says can overflow a counter
   * or name an origin no node could have.
   */
  public static VectorClock peerVc(JsonElement e) {
    if (e == null || e.isJsonNull()) return VectorClock.EMPTY;
    if (!e.isJsonObject()) throw new DecodeException("vector clock must be a JSON object");
    if (e.getAsJsonObject().size() > MAX_PEER_VC_ENTRIES) throw new DecodeException("vector clock has too many entries");
    VectorClock.Builder b = VectorClock.builder();
    for (Map.Entry<String, JsonElement> x : e.getAsJsonObject().entrySet()) {
      String origin = peerVcOrigin(x.getKey());
      b.put(origin, peerVcCounter(nonNegativeLong(x.getValue(), "counter of " + origin)));
    }
    return b.build();
  }

  /** A peer clock's origin as its shared instance; refused when malformed. (Both clock decoders.) */
  static String peerVcOrigin(String origin) {
    String known = knownOrigin(origin);
    if (known == null) throw new DecodeException("vector clock names a malformed origin");
    return known;
  }

  /** A peer clock's counter; refused above {@link VectorClock#MAX_COUNTER}. (Both clock decoders.) */
  static long peerVcCounter(long n) {
    if (n > VectorClock.MAX_COUNTER) throw new DecodeException("vector clock counter above " + VectorClock.MAX_COUNTER);
    return n;
  }

  /**
   * Origins already found well-formed, each mapped to one shared instance. A cluster has a few
   * dozen origins over its life; the bound only keeps a hostile peer from growing the map.
   */
  private static final ConcurrentHashMap<String, String> KNOWN_ORIGINS = new ConcurrentHashMap<>();
  private static final int MAX_KNOWN_ORIGINS = 4096;

  /** The shared instance of a well-formed origin, or null when {@code origin} is malformed. */
  static String knownOrigin(String origin) {
    String known = KNOWN_ORIGINS.get(origin);
    if (known != null) return known;
    if (!NodeId.isValidOrigin(origin)) return null;
    if (KNOWN_ORIGINS.size() < MAX_KNOWN_ORIGINS) {
      known = KNOWN_ORIGINS.putIfAbsent(origin, origin);
      if (known != null) return known;
    }
    return origin;
  }

  static long nonNegativeLong(JsonElement v, String what) {
    if (v == null || !v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
      throw new DecodeException(what + " must be a number");
    }
    try {
      long n = v.getAsJsonPrimitive().getAsBigDecimal().longValueExact();
      if (n < 0) throw new DecodeException(what + " must not be negative");
      return n;
    } catch (ArithmeticException | NumberFormatException ex) {
      throw new DecodeException(what + " must be a whole number");
    }
  }

  // ---------------------------------------------------------------- versions

  public static JsonObject encode(Version v) {
    JsonObject o = new JsonObject();
    o.addProperty("k", v.key());
    if (!v.isTombstone()) o.addProperty("v", v.value());
    o.addProperty("o", v.dot().origin());
    o.addProperty("s", v.dot().seq());
    o.addProperty("ts", v.ts());
    o.add("vc", encode(v.vc()));
    return o;
  }

  /** Longest key and value a version from a peer may carry (the client API's own limits). */
  static final int MAX_KEY_CHARS = 200;
  static final int MAX_VALUE_CHARS = 1024 * 1024;

  /**
   * A version from a peer: a key and value within the client API's limits, a well-formed origin,
   * a seq and clock counters within bounds, and a clock that includes the version's own dot.
   */
  public static Version decodeVersion(JsonObject o) {
    try {
      String key = string(o, "k");
      JsonElement val = o.get("v");
      String value = val == null || val.isJsonNull() ? null : val.getAsString();
      String origin = string(o, "o");
      long seq = nonNegativeLong(o.get("s"), "seq");
      long ts = o.get("ts").getAsLong();
      VectorClock vc = peerVc(o.get("vc"));
      return checkedVersion(key, value, knownOrigin(origin), seq, ts, vc);
    } catch (RuntimeException e) {
      if (e instanceof DecodeException) throw e;
      throw new DecodeException("malformed version: " + e.getMessage());
    }
  }

  /**
   * The checks every version read from a peer passes, whichever parser read its fields; one
   * place so that the fast line parser and the general decoder refuse exactly the same things.
   * {@code origin} is null when the caller found it malformed.
   */
  static Version checkedVersion(String key, String value, String origin, long seq, long ts, VectorClock vc) {
    if (key.isEmpty() || key.length() > MAX_KEY_CHARS) throw new DecodeException("version key of bad length");
    if (value != null && value.length() > MAX_VALUE_CHARS) throw new DecodeException("version value too large");
    if (origin == null) throw new DecodeException("version has a malformed origin");
    if (seq == 0 || seq > VectorClock.MAX_COUNTER) throw new DecodeException("version seq out of range");
    Dot dot = new Dot(origin, seq);
    if (!vc.covers(dot)) throw new DecodeException("version clock does not include its own dot");
    return new Version(key, value, dot, vc, ts);
  }

  private static String string(JsonObject o, String field) {
    JsonElement e = o.get(field);
    if (e == null || !e.isJsonPrimitive()) throw new DecodeException("missing " + field);
    return e.getAsString();
  }

  // ---------------------------------------------------------------- views

  public static JsonObject encode(ViewState view) {
    JsonObject o = new JsonObject();
    for (Map.Entry<String, ViewState.Entry> e : view.entries().entrySet()) {
      JsonArray a = new JsonArray();
      a.add(new JsonPrimitive(e.getValue().present()));
      a.add(new JsonPrimitive(e.getValue().counter()));
      a.add(new JsonPrimitive(e.getValue().author()));
      if (!e.getValue().drained().isEmpty()) a.add(encode(e.getValue().drained()));
      o.add(e.getKey(), a);
    }
    return o;
  }

  /**
   * A view from a peer or a client of the internal API: at most {@link ViewState#MAX_ENTRIES}
   * members, each a well-formed {@code host:port}, each entry {@code [present, counter, author]}
   * or {@code [false, counter, author, drained]} with a counter within
   * {@link ViewState#MAX_COUNTER}, an author that is a node id (or {@code ""} for the stamp-0
   * entries of a node's configured view), and a drained clock naming only the removed member's
   * origins. Anything else is refused whole. (Whether the counters are plausible for this node,
   * not too far ahead of its own, is {@link ViewState#implausible}.)
   */
  public static ViewState peerView(JsonElement e) {
    if (e == null || !e.isJsonObject()) throw new DecodeException("view must be a JSON object");
    JsonObject o = e.getAsJsonObject();
    if (o.size() > ViewState.MAX_ENTRIES) throw new DecodeException("view has more than " + ViewState.MAX_ENTRIES + " entries");
    Map<String, ViewState.Entry> m = new TreeMap<>();
    for (Map.Entry<String, JsonElement> x : o.entrySet()) {
      String member = x.getKey();
      if (!NodeId.isValid(member)) throw new DecodeException("view names a malformed member (expected host:port)");
      m.put(member, peerViewEntry(member, x.getValue()));
    }
    return ViewState.of(m);
  }

  private static ViewState.Entry peerViewEntry(String member, JsonElement v) {
    if (v == null || !v.isJsonArray()) throw new DecodeException("malformed view entry for " + member);
    JsonArray a = v.getAsJsonArray();
    if (a.size() < 3 || a.size() > 4) throw new DecodeException("malformed view entry for " + member);
    JsonElement p = a.get(0);
    if (!p.isJsonPrimitive() || !p.getAsJsonPrimitive().isBoolean()) throw new DecodeException("malformed view entry for " + member);
    boolean present = p.getAsBoolean();
    long counter = nonNegativeLong(a.get(1), "view counter of " + member);
    if (counter > ViewState.MAX_COUNTER) throw new DecodeException("view counter of " + member + " above " + ViewState.MAX_COUNTER);
    JsonElement au = a.get(2);
    if (!au.isJsonPrimitive() || !au.getAsJsonPrimitive().isString()) throw new DecodeException("malformed view entry for " + member);
    String author = au.getAsString();
    boolean configured = counter == 0;
    if (configured ? !(author.isEmpty() && present) : !NodeId.isValid(author)) {
      throw new DecodeException("view entry for " + member + " has a malformed author");
    }
    VectorClock drained = VectorClock.EMPTY;
    if (a.size() == 4) {
      if (present) throw new DecodeException("view entry for " + member + " is present but carries a drained clock");
      drained = peerVc(a.get(3));
      for (String origin : drained.asMap().keySet()) {
        if (!origin.startsWith(member + "#")) throw new DecodeException("drained clock of " + member + " names another node's origin");
      }
    }
    return new ViewState.Entry(present, counter, author, drained);
  }

  /** A view as this node stored it: structure checked, contents trusted. */
  public static ViewState decodeView(JsonElement e) {
    if (e == null || !e.isJsonObject()) throw new DecodeException("view must be a JSON object");
    Map<String, ViewState.Entry> m = new TreeMap<>();
    try {
      for (Map.Entry<String, JsonElement> x : e.getAsJsonObject().entrySet()) {
        JsonArray a = x.getValue().getAsJsonArray();
        VectorClock drained = a.size() > 3 ? decodeVc(a.get(3)) : VectorClock.EMPTY;
        m.put(x.getKey(), new ViewState.Entry(a.get(0).getAsBoolean(), a.get(1).getAsLong(), a.get(2).getAsString(), drained));
      }
    } catch (RuntimeException ex) {
      throw new DecodeException("malformed view entry");
    }
    return ViewState.of(m);
  }
}
