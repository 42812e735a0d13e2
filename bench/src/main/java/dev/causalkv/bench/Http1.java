package dev.causalkv.bench;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * The few bytes of HTTP/1.1 the load generator needs: building keep-alive requests and
 * parsing one response (Content-Length or chunked) out of a byte array, incrementally.
 * Lean on purpose: on a 2-core machine every cycle the client spends is taken from the
 * server under test.
 */
final class Http1 {
  private Http1() {}

  static final byte[] VALUE_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".getBytes(StandardCharsets.US_ASCII);

  static String urlEncode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** Appends an ASCII string to buf at pos, returns the new pos. */
  static int put(byte[] buf, int pos, String s) {
    for (int i = 0, n = s.length(); i < n; i++) buf[pos++] = (byte) s.charAt(i);
    return pos;
  }

  /** Appends a non-negative decimal number. */
  static int putNum(byte[] buf, int pos, long v) {
    if (v == 0) { buf[pos++] = '0'; return pos; }
    int start = pos;
    while (v > 0) { buf[pos++] = (byte) ('0' + (v % 10)); v /= 10; }
    for (int i = start, j = pos - 1; i < j; i++, j--) { byte t = buf[i]; buf[i] = buf[j]; buf[j] = t; }
    return pos;
  }

  /** Incremental response parser over a growable buffer. */
  static final class Response {
    byte[] buf = new byte[16 * 1024];
    int len;
    int scanFrom;
    int headerEnd = -1;
    long contentLength = -1;
    boolean chunked;
    boolean close;
    int status;
    // result
    int bodyStart;
    int bodyEnd;
    byte[] bodyBuf;

    void reset() {
      len = 0; scanFrom = 0; headerEnd = -1; contentLength = -1; chunked = false; close = false; status = 0;
      bodyBuf = null;
    }

    void ensure(int extra) {
      if (len + extra > buf.length) {
        byte[] nb = new byte[Math.max(buf.length * 2, len + extra)];
        System.arraycopy(buf, 0, nb, 0, len);
        buf = nb;
      }
    }

    /** Returns true once a whole response is in the buffer. */
    boolean complete() {
      if (headerEnd < 0) {
        int i = Math.max(0, scanFrom - 3);
        for (; i + 3 < len; i++) {
          if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
            headerEnd = i + 4;
            parseHeaders(i);
            break;
          }
        }
        if (headerEnd < 0) { scanFrom = len; return false; }
      }
      if (chunked) return dechunk();
      if (contentLength < 0) contentLength = 0;
      if (len - headerEnd >= contentLength) {
        bodyBuf = buf; bodyStart = headerEnd; bodyEnd = (int) (headerEnd + contentLength);
        return true;
      }
      return false;
    }

    private void parseHeaders(int end) {
      // status line: HTTP/1.1 200 OK
      int sp = 0;
      while (sp < end && buf[sp] != ' ') sp++;
      status = (buf[sp + 1] - '0') * 100 + (buf[sp + 2] - '0') * 10 + (buf[sp + 3] - '0');
      int line = sp;
      while (line < end) {
        int eol = line;
        while (eol < end && buf[eol] != '\n') eol++;
        int s = eol + 1;
        if (s >= end) break;
        int e = s;
        while (e < end && buf[e] != '\r') e++;
        // header s..e
        int colon = s;
        while (colon < e && buf[colon] != ':') colon++;
        int nameLen = colon - s;
        if (nameLen == 14 && eqIgnoreCase(s, "content-length")) {
          long v = 0;
          for (int k = colon + 1; k < e; k++) { byte b = buf[k]; if (b >= '0' && b <= '9') v = v * 10 + (b - '0'); }
          contentLength = v;
        } else if (nameLen == 17 && eqIgnoreCase(s, "transfer-encoding")) {
          chunked = true;
        } else if (nameLen == 10 && eqIgnoreCase(s, "connection")) {
          String v = new String(buf, colon + 1, e - colon - 1, StandardCharsets.US_ASCII).trim();
          close = v.equalsIgnoreCase("close");
        }
        line = e;
      }
    }

    private boolean eqIgnoreCase(int at, String name) {
      for (int i = 0; i < name.length(); i++) {
        int c = buf[at + i];
        if (c >= 'A' && c <= 'Z') c += 32;
        if (c != name.charAt(i)) return false;
      }
      return true;
    }

    private boolean dechunk() {
      int p = headerEnd;
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      while (true) {
        int eol = -1;
        for (int i = p; i + 1 < len; i++) if (buf[i] == '\r' && buf[i + 1] == '\n') { eol = i; break; }
        if (eol < 0) return false;
        int size = 0;
        for (int i = p; i < eol; i++) {
          int d = Character.digit(buf[i], 16);
          if (d < 0) break;
          size = size * 16 + d;
        }
        int dataStart = eol + 2;
        if (size == 0) {
          // trailers end with an empty line
          if (len < dataStart + 2) return false;
          bodyBuf = out.toByteArray(); bodyStart = 0; bodyEnd = bodyBuf.length;
          return true;
        }
        if (len < dataStart + size + 2) return false;
        out.write(buf, dataStart, size);
        p = dataStart + size + 2;
      }
    }

    String body() {
      return new String(bodyBuf, bodyStart, bodyEnd - bodyStart, StandardCharsets.UTF_8);
    }

    /** The "payload" of the body: a token string's content, or an object's JSON text; null if absent. */
    String payload() {
      return jsonObjectField(bodyBuf, bodyStart, bodyEnd, PAYLOAD_KEY);
    }
  }

  static final byte[] PAYLOAD_KEY = "\"payload\"".getBytes(StandardCharsets.US_ASCII);

  /**
   * Finds "key" : ... in a JSON byte range and returns a string value's content (the payload token:
   * URL-safe, never escaped) or an object's text.
   */
  static String jsonObjectField(byte[] b, int from, int to, byte[] key) {
    outer:
    for (int i = from; i + key.length <= to; i++) {
      for (int k = 0; k < key.length; k++) if (b[i + k] != key[k]) continue outer;
      int p = i + key.length;
      while (p < to && (b[p] == ' ' || b[p] == ':' || b[p] == '\t' || b[p] == '\n' || b[p] == '\r')) p++;
      if (p < to && b[p] == '"') {
        for (int q = p + 1; q < to; q++) {
          if (b[q] == '"') return new String(b, p + 1, q - p - 1, StandardCharsets.UTF_8);
        }
        return null;
      }
      if (p >= to || b[p] != '{') return null;
      int depth = 0;
      boolean inStr = false;
      for (int q = p; q < to; q++) {
        byte c = b[q];
        if (inStr) {
          if (c == '\\') q++;
          else if (c == '"') inStr = false;
        } else if (c == '"') inStr = true;
        else if (c == '{') depth++;
        else if (c == '}') { if (--depth == 0) return new String(b, p, q - p + 1, StandardCharsets.UTF_8); }
      }
      return null;
    }
    return null;
  }
}
