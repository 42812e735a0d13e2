package dev.causalkv.http;

/**
 * The client API's few answer shapes written straight into one {@link StringBuilder}: the same
 * bytes {@link dev.causalkv.wire.Json#toJson} writes for the equivalent ordered map (Gson's
 * escaping, HTML-safe off), without the map, the writer and the intermediate strings that every
 * answer otherwise allocates.
 */
final class ClientJson {

  private final StringBuilder sb = new StringBuilder(160).append('{');
  private boolean first = true;

  ClientJson str(String name, String value) {
    name(name);
    if (value == null) sb.append("null");
    else quote(value);
    return this;
  }

  ClientJson bool(String name, boolean value) {
    name(name);
    sb.append(value);
    return this;
  }

  String end() {
    return sb.append('}').toString();
  }

  private void name(String name) {
    if (!first) sb.append(',');
    first = false;
    quote(name);
    sb.append(':');
  }

  /** Gson's string escaping with HTML-safe off: quote, backslash, control characters, U+2028, U+2029. */
  private void quote(String s) {
    sb.append('"');
    int last = 0;
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      String rep;
      if (c < 0x20) {
        rep = switch (c) {
          case '\t' -> "\\t";
          case '\b' -> "\\b";
          case '\n' -> "\\n";
          case '\r' -> "\\r";
          case '\f' -> "\\f";
          default -> String.format("\\u%04x", (int) c);
        };
      } else if (c == '"') {
        rep = "\\\"";
      } else if (c == '\\') {
        rep = "\\\\";
      } else if (c == '\u2028') {
        rep = "\\u2028";
      } else if (c == '\u2029') {
        rep = "\\u2029";
      } else {
        continue;
      }
      sb.append(s, last, i).append(rep);
      last = i + 1;
    }
    sb.append(s, last, n).append('"');
  }
}
