package dev.causalkv.wire;

import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import java.nio.charset.StandardCharsets;

/**
 * A pull answer's version line written and read without a JSON tree: the same text as
 * {@code {"ver": Json.encode(version)}}, but built in one pass and read back by a parser that
 * knows the one shape this node writes. A line in any other shape (whitespace, reordered or
 * unknown fields, numbers like {@code 5.0}) is left to the general decoder, so what is accepted
 * and refused stays exactly what {@link Json#decodeVersion} accepts and refuses.
 *
 * <p>Why: every replicated write crosses this line once per receiving member, and the tree path
 * (a reader with its own buffer, a map node per field and per clock entry, two regular
 * expressions per origin) cost more per remote copy than the client's own PUT.
 */
final class VersionLine {

  private VersionLine() {}

  /** The bail-out of the parser: this line is not in the canonical shape. Shared, no stack trace. */
  private static final class NotCanonical extends RuntimeException {
    NotCanonical() {
      super(null, null, false, false);
    }
  }

  private static final NotCanonical NOT_CANONICAL = new NotCanonical();

  private static final String PREFIX = "{\"ver\":{";

  // ---------------------------------------------------------------- writing

  static byte[] encode(Version v) {
    byte[] plain = encodePlain(v);
    return plain != null ? plain : encodeEscaped(v);
  }

  /**
   * The line written straight into a byte array of its exact length, when no string in it needs
   * escaping (printable ASCII without quotes or backslashes: the usual keys, values and node ids)
   * and no number is negative; else null. One pass, one array: the builder, its copy into a
   * string and the string's encoding were most of what serving a catch-up cost.
   */
  static byte[] encodePlain(Version v) {
    VectorClock vc = v.vc();
    String value = v.value();
    long n = PREFIX.length() + 4 + plainLength(v.key()) + 5 + plainLength(v.dot().origin()) + 5 + digits(v.dot().seq())
        + 6 + digits(v.ts()) + 7 + 4;
    if (value != null) n += 5 + plainLength(value);
    for (int i = 0; i < vc.size(); i++) n += (i > 0 ? 1 : 0) + plainLength(vc.originAt(i)) + 1 + digits(vc.counterAt(i));
    if (n < 0 || n > Integer.MAX_VALUE) return null; // a string needed escaping or a number was negative: each counts -2^30
    byte[] b = new byte[(int) n];
    int at = ascii(b, 0, PREFIX);
    at = ascii(b, at, "\"k\":");
    at = quoted(b, at, v.key());
    if (value != null) {
      at = ascii(b, at, ",\"v\":");
      at = quoted(b, at, value);
    }
    at = ascii(b, at, ",\"o\":");
    at = quoted(b, at, v.dot().origin());
    at = ascii(b, at, ",\"s\":");
    at = number(b, at, v.dot().seq());
    at = ascii(b, at, ",\"ts\":");
    at = number(b, at, v.ts());
    at = ascii(b, at, ",\"vc\":{");
    for (int i = 0; i < vc.size(); i++) {
      if (i > 0) b[at++] = ',';
      at = quoted(b, at, vc.originAt(i));
      b[at++] = ':';
      at = number(b, at, vc.counterAt(i));
    }
    at = ascii(b, at, "}}}\n");
    assert at == n;
    return b;
  }

  private static final int NOT_PLAIN = -(1 << 30);

  /** The quoted length of {@code s}, or a large negative number when it needs escaping. */
  private static int plainLength(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return NOT_PLAIN;
    }
    return s.length() + 2;
  }

  /** The decimal length of {@code x}, or a large negative number when it is negative. */
  private static int digits(long x) {
    if (x < 0) return NOT_PLAIN;
    int d = 1;
    for (long p = 10; d < 19 && x >= p; p *= 10) d++;
    return d;
  }

  private static int ascii(byte[] b, int at, String s) {
    for (int i = 0; i < s.length(); i++) b[at++] = (byte) s.charAt(i);
    return at;
  }

  private static int quoted(byte[] b, int at, String s) {
    b[at++] = '"';
    at = ascii(b, at, s);
    b[at++] = '"';
    return at;
  }

  private static int number(byte[] b, int at, long x) {
    int end = at + digits(x);
    for (int i = end - 1; i >= at; i--) {
      b[i] = (byte) ('0' + x % 10);
      x /= 10;
    }
    return end;
  }

  /** The line through a builder, escaping as Gson does: any string, any number. */
  static byte[] encodeEscaped(Version v) {
    VectorClock vc = v.vc();
    int hint = 64 + v.key().length() + (v.value() == null ? 0 : v.value().length()) + 40 * vc.size();
    StringBuilder sb = new StringBuilder(hint);
    sb.append(PREFIX).append("\"k\":");
    quote(sb, v.key());
    if (!v.isTombstone()) {
      sb.append(",\"v\":");
      quote(sb, v.value());
    }
    sb.append(",\"o\":");
    quote(sb, v.dot().origin());
    sb.append(",\"s\":").append(v.dot().seq());
    sb.append(",\"ts\":").append(v.ts());
    sb.append(",\"vc\":{");
    for (int i = 0; i < vc.size(); i++) {
      if (i > 0) sb.append(',');
      quote(sb, vc.originAt(i));
      sb.append(':').append(vc.counterAt(i));
    }
    sb.append("}}}\n");
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** A JSON string literal, escaped as Gson's writer escapes it (HTML-safe escaping off). */
  static void quote(StringBuilder sb, String s) {
    sb.append('"');
    int from = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      String rep;
      if (c == '"') rep = "\\\"";
      else if (c == '\\') rep = "\\\\";
      else if (c >= 0x20 && c != '\u2028' && c != '\u2029') continue;
      else if (c == '\n') rep = "\\n";
      else if (c == '\r') rep = "\\r";
      else if (c == '\t') rep = "\\t";
      else if (c == '\b') rep = "\\b";
      else if (c == '\f') rep = "\\f";
      else rep = String.format("\\u%04x", (int) c);
      sb.append(s, from, i).append(rep);
      from = i + 1;
    }
    sb.append(s, from, s.length()).append('"');
  }

  // ---------------------------------------------------------------- reading

  /**
   * The version on {@code line}, or null when the line is not a version line in the canonical
   * shape (the caller then decodes it the general way). Throws {@link Json.DecodeException} for
   * a canonical line whose contents a peer may not send, with the general decoder's messages.
   */
  static Version decode(String line) {
    if (!line.startsWith(PREFIX)) return null;
    try {
      return new Parser(line).version();
    } catch (NotCanonical | IndexOutOfBoundsException e) {
      return null;
    }
  }

  private static final class Parser {
    private final String s;
    private int i = PREFIX.length();

    Parser(String s) {
      this.s = s;
    }

    Version version() {
      String key = null, value = null, origin = null;
      boolean hasValue = false;
      long seq = -1, ts = 0;
      boolean hasTs = false;
      VectorClock vc = null;
      while (true) {
        expect('"');
        String name = name();
        expect(':');
        switch (name) {
          case "k" -> key = once(key, string());
          case "v" -> {
            if (hasValue) throw NOT_CANONICAL;
            hasValue = true;
            if (s.startsWith("null", i)) i += 4;
            else value = string();
          }
          case "o" -> origin = once(origin, string());
          case "s" -> {
            if (seq >= 0) throw NOT_CANONICAL;
            seq = digits();
          }
          case "ts" -> {
            if (hasTs) throw NOT_CANONICAL;
            hasTs = true;
            boolean neg = s.charAt(i) == '-';
            if (neg) i++;
            ts = neg ? -digits() : digits();
          }
          case "vc" -> {
            if (vc != null) throw NOT_CANONICAL;
            vc = clock();
          }
          default -> throw NOT_CANONICAL;
        }
        char c = s.charAt(i++);
        if (c == '}') break;
        if (c != ',') throw NOT_CANONICAL;
      }
      expect('}');
      if (i != s.length()) throw NOT_CANONICAL;
      if (key == null || origin == null || seq < 0 || !hasTs) throw NOT_CANONICAL; // the general decoder words the error
      return Json.checkedVersion(key, value, Json.knownOrigin(origin), seq, ts, vc == null ? VectorClock.EMPTY : vc);
    }

    private VectorClock clock() {
      expect('{');
      VectorClock.Builder b = VectorClock.builder();
      if (s.charAt(i) == '}') {
        i++;
        return b.build();
      }
      while (true) {
        expect('"');
        String origin = string0();
        expect(':');
        long n = digits();
        if (b.size() >= Json.MAX_PEER_VC_ENTRIES) throw new Json.DecodeException("vector clock has too many entries");
        b.put(Json.peerVcOrigin(origin), Json.peerVcCounter(n));
        char c = s.charAt(i++);
        if (c == '}') return b.build();
        if (c != ',') throw NOT_CANONICAL;
      }
    }

    private static String once(String had, String now) {
      if (had != null) throw NOT_CANONICAL;
      return now;
    }

    private void expect(char c) {
      if (s.charAt(i++) != c) throw NOT_CANONICAL;
    }

    /** A field name: plain letters only. */
    private String name() {
      int from = i;
      while (s.charAt(i) != '"') {
        if (s.charAt(i) == '\\') throw NOT_CANONICAL;
        i++;
      }
      return s.substring(from, i++);
    }

    /** A plain non-negative integer literal: no sign, no leading zero, no fraction, at most 18 digits. */
    private long digits() {
      int from = i;
      long n = 0;
      while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') n = n * 10 + (s.charAt(i++) - '0');
      int len = i - from;
      if (len == 0 || len > 18 || (len > 1 && s.charAt(from) == '0')) throw NOT_CANONICAL;
      return n;
    }

    private String string() {
      expect('"');
      return string0();
    }

    /** The rest of a string literal whose opening quote was read. */
    private String string0() {
      int from = i;
      StringBuilder sb = null;
      while (true) {
        char c = s.charAt(i);
        if (c == '"') {
          String out = sb == null ? s.substring(from, i) : sb.append(s, from, i).toString();
          i++;
          return out;
        }
        if (c < 0x20) throw NOT_CANONICAL;
        if (c != '\\') {
          i++;
          continue;
        }
        if (sb == null) sb = new StringBuilder();
        sb.append(s, from, i);
        char e = s.charAt(i + 1);
        i += 2;
        switch (e) {
          case '"', '\\', '/' -> sb.append(e);
          case 'n' -> sb.append('\n');
          case 'r' -> sb.append('\r');
          case 't' -> sb.append('\t');
          case 'b' -> sb.append('\b');
          case 'f' -> sb.append('\f');
          case 'u' -> {
            int cp = 0;
            for (int k = 0; k < 4; k++) {
              int d = Character.digit(s.charAt(i + k), 16);
              if (d < 0) throw NOT_CANONICAL;
              cp = cp * 16 + d;
            }
            i += 4;
            sb.append((char) cp);
          }
          default -> throw NOT_CANONICAL;
        }
        from = i;
      }
    }
  }
}
