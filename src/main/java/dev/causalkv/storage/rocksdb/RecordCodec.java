package dev.causalkv.storage.rocksdb;

import com.google.gson.JsonObject;
import dev.causalkv.core.Dot;
import dev.causalkv.core.NodeMeta;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.wire.Json;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * The compact binary on-disk encoding of the RocksDB engine: a key's siblings as one record, and
 * the ordered keys of the per-origin indexes.
 *
 * <p>Siblings record: a format byte, then per version a flag byte (tombstone or not), the value,
 * the dot, the timestamp and the vector clock, with lengths and numbers as unsigned LEB128
 * varints. The key itself is the RocksDB key and is not repeated. Index keys are
 * {@code origin UTF-8, 0x00, u64 big-endian seq}: bytewise order is then origin order (for the
 * ASCII node ids origins are made of, the same as {@link dev.causalkv.core.Dot}'s order) and, within
 * one origin, seq order. The {@code meta} family holds the node metadata as JSON under
 * {@code node}, the key count as a big-endian long under {@code keycount}, and the format mark.
 */
final class RecordCodec {

  static final byte SIBLINGS_FORMAT = 1;
  static final byte[] META_KEY = utf8("node");
  static final byte[] COUNT_KEY = utf8("keycount");
  static final byte[] FORMAT_KEY = utf8("format");
  static final byte[] FORMAT = utf8("causalkv-1");
  private static final int FLAG_TOMBSTONE = 1;

  /** A record that cannot be decoded: the data directory is damaged or from another program. */
  static final class CorruptRecord extends RuntimeException {
    CorruptRecord(String message) {
      super(message);
    }
  }

  private RecordCodec() {}

  // ---------------------------------------------------------------- siblings

  static byte[] encodeSiblings(Siblings s) {
    Out out = new Out(64);
    out.b(SIBLINGS_FORMAT);
    out.varint(s.versions().size());
    for (Version v : s.versions()) {
      out.b(v.isTombstone() ? FLAG_TOMBSTONE : 0);
      if (!v.isTombstone()) out.string(v.value());
      out.string(v.dot().origin());
      out.varint(v.dot().seq());
      out.varint(v.ts());
      out.varint(v.vc().size());
      for (var e : v.vc().asMap().entrySet()) {
        out.string(e.getKey());
        out.varint(e.getValue());
      }
    }
    return out.bytes();
  }

  static Siblings decodeSiblings(String key, byte[] bytes) {
    try {
      In in = new In(bytes);
      if (in.b() != SIBLINGS_FORMAT) throw new CorruptRecord("unknown record format for key " + key);
      int n = (int) in.varint();
      List<Version> versions = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        int flags = in.b();
        String value = (flags & FLAG_TOMBSTONE) != 0 ? null : in.string();
        Dot dot = new Dot(in.string(), in.varint());
        long ts = in.varint();
        int m = (int) in.varint();
        TreeMap<String, Long> vc = new TreeMap<>();
        for (int j = 0; j < m; j++) vc.put(in.string(), in.varint());
        versions.add(new Version(key, value, dot, VectorClock.of(vc), ts));
      }
      if (in.remaining() != 0) throw new CorruptRecord("trailing bytes in record of key " + key);
      return Siblings.of(versions);
    } catch (RuntimeException e) {
      if (e instanceof CorruptRecord c) throw c;
      throw new CorruptRecord("undecodable record for key " + key + ": " + e);
    }
  }

  // ---------------------------------------------------------------- node metadata and key count

  static byte[] encodeMeta(NodeMeta m) {
    JsonObject o = new JsonObject();
    o.addProperty("origin", m.origin());
    o.addProperty("ownSeq", m.ownSeq());
    o.add("lastOwnVc", Json.encode(m.lastOwnVc()));
    o.add("applied", Json.encode(m.applied()));
    o.add("view", Json.encode(m.view()));
    if (m.mustReconcile()) o.addProperty("reconcile", true);
    return utf8(o.toString());
  }

  static NodeMeta decodeMeta(byte[] b) {
    try {
      JsonObject o = Json.object(string(b));
      return new NodeMeta(o.get("origin").getAsString(), o.get("ownSeq").getAsLong(), Json.decodeVc(o.get("lastOwnVc")),
          Json.decodeVc(o.get("applied")), Json.decodeView(o.get("view")),
          o.has("reconcile") && o.get("reconcile").getAsBoolean());
    } catch (RuntimeException e) {
      throw new CorruptRecord("corrupt node metadata: " + e.getMessage());
    }
  }

  static byte[] encodeCount(long count) {
    return ByteBuffer.allocate(8).putLong(count).array();
  }

  static long decodeCount(byte[] b) {
    if (b.length != 8) throw new CorruptRecord("corrupt key count");
    return ByteBuffer.wrap(b).getLong();
  }

  // ---------------------------------------------------------------- index keys

  /** The index key of {@code (origin, seq)}. */
  static byte[] dotKey(String origin, long seq) {
    byte[] o = originBytes(origin);
    return ByteBuffer.allocate(o.length + 1 + 8).put(o).put((byte) 0).putLong(seq).array();
  }

  /** The first index key of {@code origin}. */
  static byte[] originStart(String origin) {
    byte[] o = originBytes(origin);
    return java.util.Arrays.copyOf(o, o.length + 1); // origin, 0x00
  }

  /** A byte string after every index key of {@code origin} and before those of any greater origin. */
  static byte[] originEnd(String origin) {
    byte[] o = originBytes(origin);
    byte[] b = java.util.Arrays.copyOf(o, o.length + 1);
    b[o.length] = 1; // origin, 0x01
    return b;
  }

  static String originOf(byte[] dotKey) {
    if (dotKey.length < 9 || dotKey[dotKey.length - 9] != 0) throw new CorruptRecord("malformed index key");
    return new String(dotKey, 0, dotKey.length - 9, StandardCharsets.UTF_8);
  }

  static long seqOf(byte[] dotKey) {
    return ByteBuffer.wrap(dotKey, dotKey.length - 8, 8).getLong();
  }

  private static byte[] originBytes(String origin) {
    byte[] o = origin.getBytes(StandardCharsets.UTF_8);
    for (byte b : o) {
      if (b == 0) throw new IllegalArgumentException("origin must not contain NUL: " + origin);
    }
    return o;
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String string(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  // ---------------------------------------------------------------- primitives

  private static final class Out {
    private byte[] buf;
    private int n;

    Out(int size) {
      buf = new byte[size];
    }

    void ensure(int more) {
      if (n + more > buf.length) buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, n + more));
    }

    void b(int x) {
      ensure(1);
      buf[n++] = (byte) x;
    }

    void varint(long x) {
      if (x < 0) throw new IllegalArgumentException("negative " + x);
      ensure(10);
      while ((x & ~0x7FL) != 0) {
        buf[n++] = (byte) ((x & 0x7F) | 0x80);
        x >>>= 7;
      }
      buf[n++] = (byte) x;
    }

    void string(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      varint(b.length);
      ensure(b.length);
      System.arraycopy(b, 0, buf, n, b.length);
      n += b.length;
    }

    byte[] bytes() {
      return java.util.Arrays.copyOf(buf, n);
    }
  }

  private static final class In {
    private final byte[] buf;
    private int p;

    In(byte[] buf) {
      this.buf = buf;
    }

    int b() {
      if (p >= buf.length) throw new CorruptRecord("record truncated");
      return buf[p++] & 0xFF;
    }

    long varint() {
      long x = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        int c = b();
        x |= (long) (c & 0x7F) << shift;
        if ((c & 0x80) == 0) return x;
      }
      throw new CorruptRecord("varint too long");
    }

    String string() {
      long len = varint();
      if (len > buf.length - p) throw new CorruptRecord("record truncated");
      String s = new String(buf, p, (int) len, StandardCharsets.UTF_8);
      p += (int) len;
      return s;
    }

    int remaining() {
      return buf.length - p;
    }
  }
}
