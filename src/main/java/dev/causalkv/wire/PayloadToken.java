package dev.causalkv.wire;

import dev.causalkv.core.VectorClock;
import dev.causalkv.security.SealKey;
import java.io.ByteArrayOutputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;

/**
 * The payload token's layout: a vector clock in a canonical binary form, and the text that carries
 * it and its seal.
 *
 * <p>Body: one version byte ({@link #VERSION}), the id of the key that sealed it
 * ({@link SealKey#ID_BYTES} bytes), the entry count, then per entry, sorted by origin, the origin's
 * UTF-8 length, its bytes and its counter. Every number is an unsigned LEB128 varint in its
 * shortest form, counters are positive, origins strictly increasing, and nothing follows the last
 * entry, so each clock has exactly one body and the seal (computed over exactly these bytes, key id
 * included) has nothing ambiguous to cover. Version {@link #VERSION_1} is the same without the key
 * id, as nodes handed it out before the seal key became secret. Text:
 * {@code base64url(body) "." base64url(seal)}, without padding: only {@code [A-Za-z0-9_.-]}, so it
 * survives a form body, a query string and a URL untouched.
 */
final class PayloadToken {

  static final int VERSION = 2;
  static final int VERSION_1 = 1;
  /** Limits on what a client may send: a payload names one origin per node incarnation that wrote. */
  static final int MAX_ENTRIES = 1000;
  static final int MAX_ORIGIN_BYTES = 1024;
  /** Longest text accepted: 1000 entries with origins of ~190 bytes; checked before any work is done. */
  static final int MAX_CHARS = 256 * 1024;

  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  /** A token split into its two parts, both already base64-decoded. */
  record Parts(byte[] body, byte[] seal) {}

  private PayloadToken() {}

  /** The canonical body of {@code vc}, sealed by the key with id {@code keyId}. */
  static byte[] body(VectorClock vc, byte[] keyId) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(16 + vc.size() * 32);
    out.write(VERSION);
    out.write(keyId, 0, SealKey.ID_BYTES);
    entries(out, vc);
    return out.toByteArray();
  }

  /** The version-1 body of {@code vc}, without a key id. */
  static byte[] bodyV1(VectorClock vc) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(16 + vc.size() * 32);
    out.write(VERSION_1);
    entries(out, vc);
    return out.toByteArray();
  }

  /** The body's version byte. */
  static int version(byte[] body) {
    if (body.length == 0) throw new PayloadCodec.InvalidPayload("payload is truncated");
    return body[0] & 0xFF;
  }

  /** The id of the key that sealed a version-2 body: the only part read before the seal is checked. */
  static byte[] keyId(byte[] body) {
    if (body.length < 1 + SealKey.ID_BYTES) throw new PayloadCodec.InvalidPayload("payload is truncated");
    return Arrays.copyOfRange(body, 1, 1 + SealKey.ID_BYTES);
  }

  private static void entries(ByteArrayOutputStream out, VectorClock vc) {
    varint(out, vc.size());
    for (Map.Entry<String, Long> e : vc.asMap().entrySet()) {
      byte[] o = e.getKey().getBytes(StandardCharsets.UTF_8);
      varint(out, o.length);
      out.write(o, 0, o.length);
      varint(out, e.getValue());
    }
  }

  static String text(byte[] body, byte[] seal) {
    return B64.encodeToString(body) + "." + B64.encodeToString(seal);
  }

  /** Whether {@code text} has the token's shape (its alphabet); says nothing about its validity. */
  static boolean looksLikeToken(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      boolean ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
      if (!ok) return false;
    }
    return true;
  }

  /**
   * Splits and decodes a token's text. Only the exact text this class writes is accepted: base64
   * has spare bits in its last character, and a text differing only there must not pass as the same
   * token.
   */
  static Parts split(String text) {
    if (text.length() > MAX_CHARS) {
      throw new PayloadCodec.InvalidPayload("payload is longer than " + MAX_CHARS + " characters");
    }
    int dot = text.indexOf('.');
    if (dot <= 0 || dot != text.lastIndexOf('.') || dot == text.length() - 1) {
      throw new PayloadCodec.InvalidPayload("payload is not a token (expected two parts separated by '.')");
    }
    String b = text.substring(0, dot);
    String s = text.substring(dot + 1);
    byte[] body;
    byte[] seal;
    try {
      body = B64D.decode(b);
      seal = B64D.decode(s);
    } catch (IllegalArgumentException e) {
      throw new PayloadCodec.InvalidPayload("payload is not a token (bad base64url)");
    }
    if (!B64.encodeToString(body).equals(b) || !B64.encodeToString(seal).equals(s)) {
      throw new PayloadCodec.InvalidPayload("payload is not a token (non-canonical base64url)");
    }
    return new Parts(body, seal);
  }

  /** Decodes a body; refuses anything that is not exactly the canonical form of some clock. */
  static VectorClock parse(byte[] body) {
    Reader r = new Reader(body);
    int version = r.u8();
    if (version == VERSION) r.skip(SealKey.ID_BYTES);
    else if (version != VERSION_1) throw new PayloadCodec.InvalidPayload("payload version " + version + " is not supported");
    long n = r.varint();
    if (n > MAX_ENTRIES) throw new PayloadCodec.InvalidPayload("payload has more than " + MAX_ENTRIES + " entries");
    TreeMap<String, Long> m = new TreeMap<>();
    String previous = null;
    for (long i = 0; i < n; i++) {
      long len = r.varint();
      if (len == 0 || len > MAX_ORIGIN_BYTES) throw new PayloadCodec.InvalidPayload("payload has an origin of bad length");
      String origin = r.utf8((int) len);
      long counter = r.varint();
      if (counter <= 0) throw new PayloadCodec.InvalidPayload("payload has a counter that is not positive");
      if (counter > VectorClock.MAX_COUNTER) throw new PayloadCodec.InvalidPayload("payload has a counter out of range");
      if (previous != null && previous.compareTo(origin) >= 0) {
        throw new PayloadCodec.InvalidPayload("payload entries are not in canonical order");
      }
      m.put(origin, counter);
      previous = origin;
    }
    if (!r.atEnd()) throw new PayloadCodec.InvalidPayload("payload has trailing bytes");
    return VectorClock.of(m);
  }

  private static void varint(ByteArrayOutputStream out, long v) {
    while ((v & ~0x7FL) != 0) {
      out.write((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }

  /** A bounds-checked cursor over a body; every overrun is a truncated payload. */
  private static final class Reader {
    private final byte[] b;
    private int pos;

    Reader(byte[] b) {
      this.b = b;
    }

    int u8() {
      if (pos >= b.length) throw truncated();
      return b[pos++] & 0xFF;
    }

    void skip(int n) {
      if (n > b.length - pos) throw truncated();
      pos += n;
    }

    /** A shortest-form varint of at most 63 bits (counters are Java longs). */
    long varint() {
      long v = 0;
      for (int shift = 0; shift < 63; shift += 7) {
        int x = u8();
        if (x == 0 && shift > 0) throw new PayloadCodec.InvalidPayload("payload has a non-canonical number");
        v |= (long) (x & 0x7F) << shift;
        if ((x & 0x80) == 0) return v;
      }
      throw new PayloadCodec.InvalidPayload("payload has a number out of range");
    }

    String utf8(int len) {
      if (len > b.length - pos) throw truncated();
      try {
        String s = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(java.nio.ByteBuffer.wrap(b, pos, len))
            .toString();
        pos += len;
        return s;
      } catch (CharacterCodingException e) {
        throw new PayloadCodec.InvalidPayload("payload has an origin that is not UTF-8");
      }
    }

    boolean atEnd() {
      return pos == b.length;
    }

    private static PayloadCodec.InvalidPayload truncated() {
      return new PayloadCodec.InvalidPayload("payload is truncated");
    }
  }
}
