package dev.causalkv.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import dev.causalkv.core.Dot;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The pull answer's version line without a JSON tree: it writes what the tree wrote, reads back
 * what it wrote, and accepts and refuses exactly what the general decoder accepts and refuses.
 */
class VersionLineTest {

  private static final String[] ORIGINS = {"10.0.0.2:8080#k3x9", "10.0.0.3:8080#a1", "node-4.example:9000#zz0", "10.0.0.5:8080#q"};
  /** Characters a key or value may hold that a JSON writer has to escape, and some it does not. */
  private static final String[] ODD = {"\"", "\\", "/", "\n", "\r", "\t", "\b", "\f", "\u0000", "\u001f", "\u2028", "\u2029",
      "é", "€", "😀", " ", "{", "}", "[", "]", ",", ":", "<", "&"};

  static Version random(SplittableRandom r) {
    return random(r, true);
  }

  /** A random version; without {@code odd} characters its strings are plain printable ASCII. */
  static Version random(SplittableRandom r, boolean odd) {
    StringBuilder key = new StringBuilder();
    int kl = 1 + r.nextInt(30);
    for (int i = 0; i < kl; i++) key.append(odd && r.nextInt(4) == 0 ? ODD[r.nextInt(ODD.length)] : String.valueOf((char) ('a' + r.nextInt(26))));
    String value = null;
    if (r.nextInt(5) > 0) {
      StringBuilder v = new StringBuilder();
      int vl = r.nextInt(60);
      for (int i = 0; i < vl; i++) v.append(odd && r.nextInt(3) == 0 ? ODD[r.nextInt(ODD.length)] : String.valueOf((char) ('A' + r.nextInt(26))));
      value = v.toString();
    }
    Dot dot = new Dot(ORIGINS[r.nextInt(ORIGINS.length)], 1 + r.nextInt(1_000_000));
    VectorClock.Builder b = VectorClock.builder();
    for (String o : ORIGINS) if (r.nextBoolean()) b.put(o, r.nextInt(2_000_000));
    VectorClock vc = b.build().with(dot);
    long ts = r.nextInt(10) == 0 ? -r.nextInt(1000) : 1_700_000_000_000L + r.nextInt(1_000_000_000);
    return new Version(key.toString(), value, dot, vc, ts);
  }

  /** The line as the tree path wrote it. */
  static String treeLine(Version v) {
    JsonObject o = new JsonObject();
    o.add("ver", Json.encode(v));
    return o.toString();
  }

  static String line(Version v) {
    String s = new String(VersionLine.encode(v), StandardCharsets.UTF_8);
    assertEquals('\n', s.charAt(s.length() - 1));
    return s.substring(0, s.length() - 1);
  }

  @Test
  void writesWhatTheTreeWroteAndReadsItBackWithoutTheTree() {
    SplittableRandom r = new SplittableRandom(7);
    for (int i = 0; i < 3000; i++) {
      Version v = random(r);
      String line = line(v);
      assertEquals(treeLine(v), line);
      Version fast = VersionLine.decode(line);
      assertNotNull(fast, line);
      assertEquals(v, fast, line);
      assertEquals(Json.decodeVersion(Json.object(line).getAsJsonObject("ver")), fast, line);
    }
  }

  @Test
  void plainVersionsAreWrittenStraightToBytesAsTheTreeWroteThem() {
    SplittableRandom r = new SplittableRandom(11);
    int plain = 0;
    for (int i = 0; i < 3000; i++) {
      Version v = random(r, false);
      assertEquals(treeLine(v), line(v));
      if (VersionLine.encodePlain(v) != null) plain++;
    }
    assertTrue(plain > 2000, "the byte path took " + plain + " of 3000"); // only negative timestamps leave it
    Version odd = new Version("k\u00e9", "v", new Dot(ORIGINS[0], 1), VectorClock.EMPTY.with(new Dot(ORIGINS[0], 1)), 5);
    assertNull(VersionLine.encodePlain(odd), "a key that needs care goes the escaping way");
    Version big = new Version("k", "v", new Dot(ORIGINS[0], Long.MAX_VALUE), VectorClock.EMPTY.with(new Dot(ORIGINS[0], Long.MAX_VALUE)), Long.MAX_VALUE);
    assertEquals(treeLine(big), line(big));
  }

  @Test
  void linesInAnyOtherShapeAreLeftToTheGeneralDecoderWhichStillReadsThem() {
    Version v = new Version("k", "x", new Dot(ORIGINS[0], 3), VectorClock.builder().put(ORIGINS[0], 3).build(), 5);
    String[] others = {
        "{\"ver\":{\"k\":\"k\", \"v\":\"x\",\"o\":\"" + ORIGINS[0] + "\",\"s\":3,\"ts\":5,\"vc\":{\"" + ORIGINS[0] + "\":3}}}", // a space
        "{\"ver\":{\"v\":\"x\",\"k\":\"k\",\"o\":\"" + ORIGINS[0] + "\",\"s\":3.0,\"ts\":5,\"vc\":{\"" + ORIGINS[0] + "\":3}}}", // 3.0
        "{\"ver\":{\"k\":\"k\",\"v\":\"x\",\"o\":\"" + ORIGINS[0] + "\",\"s\":3,\"ts\":5,\"vc\":{\"" + ORIGINS[0] + "\":3},\"extra\":1}}",
        "{\"ver\":{\"k\":\"k\",\"k\":\"k\",\"v\":\"x\",\"o\":\"" + ORIGINS[0] + "\",\"s\":3,\"ts\":5,\"vc\":{\"" + ORIGINS[0] + "\":3}}}",
    };
    for (String line : others) {
      assertNull(VersionLine.decode(line), line);
      PullStreamCodec.Line l = PullStreamCodec.decode(line);
      assertEquals(v, assertInstanceOf(PullStreamCodec.Ver.class, l).version(), line);
    }
  }

  @Test
  void refusesWhatAPeerMayNotSendAsTheGeneralDecoderDoes() {
    String o = ORIGINS[0];
    String[] bad = {
        "{\"ver\":{\"k\":\"\",\"v\":\"x\",\"o\":\"" + o + "\",\"s\":3,\"ts\":5,\"vc\":{\"" + o + "\":3}}}", // empty key
        "{\"ver\":{\"k\":\"" + "k".repeat(201) + "\",\"o\":\"" + o + "\",\"s\":3,\"ts\":5,\"vc\":{\"" + o + "\":3}}}",
        "{\"ver\":{\"k\":\"k\",\"o\":\"no-incarnation:8080\",\"s\":3,\"ts\":5,\"vc\":{\"no-incarnation:8080\":3}}}",
        "{\"ver\":{\"k\":\"k\",\"o\":\"" + o + "\",\"s\":0,\"ts\":5,\"vc\":{\"" + o + "\":3}}}", // seq 0
        "{\"ver\":{\"k\":\"k\",\"o\":\"" + o + "\",\"s\":4,\"ts\":5,\"vc\":{\"" + o + "\":3}}}", // clock misses its dot
        "{\"ver\":{\"k\":\"k\",\"o\":\"" + o + "\",\"s\":3,\"ts\":5,\"vc\":{\"" + o + "\":3,\"bad origin\":1}}}",
        "{\"ver\":{\"k\":\"k\",\"o\":\"" + o + "\",\"s\":3,\"ts\":5,\"vc\":{\"" + o + "\":9007199254740993}}}", // above 2^53
    };
    for (String line : bad) {
      assertThrows(Json.DecodeException.class, () -> VersionLine.decode(line), line);
      assertThrows(Json.DecodeException.class, () -> PullStreamCodec.decode(line), line);
      assertThrows(Json.DecodeException.class, () -> Json.decodeVersion(Json.object(line).getAsJsonObject("ver")), "general decoder: " + line);
    }
    // cut short: not canonical, and the general decoder refuses it
    String whole = line(new Version("k", "x", new Dot(o, 3), VectorClock.builder().put(o, 3).build(), 5));
    for (int cut = 1; cut < whole.length(); cut++) {
      String part = whole.substring(0, cut);
      assertNull(VersionLine.decode(part), part);
      assertThrows(Json.DecodeException.class, () -> PullStreamCodec.decode(part), part);
    }
  }

  @Test
  void originsReadFromPeersShareOneInstance() {
    Version v = new Version("k", "x", new Dot(ORIGINS[1], 3), VectorClock.builder().put(ORIGINS[1], 3).build(), 5);
    String line = line(v);
    Version a = VersionLine.decode(line), b = VersionLine.decode(line);
    assertSame(a.dot().origin(), b.dot().origin());
    assertSame(a.vc().originAt(0), b.vc().originAt(0));
  }
}
