package dev.causalkv.http;

import dev.causalkv.core.Siblings;
import dev.causalkv.core.Store;
import dev.causalkv.core.Version;
import dev.causalkv.protocol.NodeCore;
import dev.causalkv.wire.Json;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Inspection for people checking convergence and debugging the conflict rule:
 * {@code GET /admin/digest} (a hash of the visible state, so nodes are compared without dumping
 * their stores) and {@code GET /admin/key/<key>} (every sibling of one key, which one is visible
 * and why).
 */
final class InspectApi {

  static final String KEY_PATH = "/admin/key/";
  static final String RULE = "Siblings are the versions of the key that no other held version dominates "
      + "(v1 is dominated by v2 when v2.vc[v1.origin] >= v1.seq). The visible one is the sibling with the "
      + "greatest (ts, origin, seq): the later timestamp of the node that first took the write, ties broken "
      + "by origin, then by sequence number, identically on every node.";

  private final NodeCore core;

  InspectApi(NodeCore core) {
    this.core = core;
  }

  /**
   * The digest of the visible state: for each key whose visible version holds a value, SHA-256 of
   * (key, value), summed lane-wise (four 64-bit lanes, modulo 2^64) over the keys. The sum does
   * not depend on the scan order, and it streams over the store scan. Tombstoned keys count as
   * absent, as clients see them, so nodes that have and have not yet collected a tombstone agree.
   */
  void digest(HttpCall call) {
    long[] lanes = new long[4];
    long keys = 0;
    long tombstoned = 0;
    MessageDigest sha = sha256();
    try (Store.Scan scan = core.scan()) {
      while (scan.hasNext()) {
        Version v = scan.next().visible();
        if (v == null) continue;
        if (v.isTombstone()) {
          tombstoned++;
          continue;
        }
        keys++;
        ByteBuffer h = ByteBuffer.wrap(sha.digest(entry(v.key(), v.value())));
        for (int i = 0; i < 4; i++) lanes[i] += h.getLong();
      }
    }
    ByteBuffer out = ByteBuffer.allocate(32);
    for (long l : lanes) out.putLong(l);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("node", core.nodeId());
    m.put("digest", HexFormat.of().formatHex(out.array()));
    m.put("keys", keys);
    m.put("tombstoned", tombstoned);
    m.put("algorithm", "sum over keys with a value of SHA-256(len(key) key len(value) value), four 64-bit lanes");
    call.respond(200, m);
  }

  /** Every sibling of {@code key}, most visible first, with dots, clocks, timestamps and the reason for the order. */
  void key(HttpCall call, String key) {
    if (key.isEmpty() || key.length() > KeyValueApi.MAX_KEY_CHARS) {
      throw new HttpCall.BadRequest(400, HttpCall.error("Key not valid"));
    }
    Siblings s = core.siblings(key);
    List<Version> ordered = new ArrayList<>(s.versions());
    ordered.sort(Version.VISIBILITY.reversed());
    Version visible = s.visible();
    List<Object> list = new ArrayList<>();
    for (int i = 0; i < ordered.size(); i++) {
      Version v = ordered.get(i);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("rank", i + 1);
      m.put("visible", v == visible);
      m.put("dot", v.dot().toString());
      m.put("origin", v.dot().origin());
      m.put("seq", v.dot().seq());
      m.put("ts", v.ts());
      m.put("time", Instant.ofEpochMilli(v.ts()).toString());
      m.put("tombstone", v.isTombstone());
      m.put("value", v.value());
      m.put("vc", Json.vcMap(v.vc()));
      m.put("why", v == visible ? whyVisible(ordered) : whyNot(v, visible));
      list.add(m);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("node", core.nodeId());
    out.put("key", key);
    out.put("exists", s.exists());
    out.put("visibleDot", visible == null ? null : visible.dot().toString());
    out.put("siblings", list);
    out.put("vc", Json.vcMap(s.vc()));
    out.put("rule", RULE);
    call.respond(200, out);
  }

  private static String whyVisible(List<Version> ordered) {
    if (ordered.size() == 1) return "the only sibling: every other version this node received is dominated by it";
    return "the greatest (ts, origin, seq) of " + ordered.size() + " concurrent siblings";
  }

  private static String whyNot(Version v, Version visible) {
    if (v.ts() != visible.ts()) {
      return "concurrent with " + visible.dot() + " and older: ts " + v.ts() + " < " + visible.ts();
    }
    if (!v.dot().origin().equals(visible.dot().origin())) {
      return "concurrent with " + visible.dot() + ", same ts; loses the tie on origin (" + v.dot().origin() + " < "
          + visible.dot().origin() + ")";
    }
    return "concurrent with " + visible.dot() + ", same ts and origin; lower seq";
  }

  private static byte[] entry(String key, String value) {
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    byte[] v = value.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(8 + k.length + v.length).putInt(k.length).put(k).putInt(v.length).put(v).array();
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
