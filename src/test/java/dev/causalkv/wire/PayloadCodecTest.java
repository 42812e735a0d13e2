package dev.causalkv.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonPrimitive;
import dev.causalkv.core.VectorClock;
import dev.causalkv.security.Keyring;
import dev.causalkv.security.SealKey;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The payload token: round trip, every form a client may send it in, and everything it must refuse. */
class PayloadCodecTest {

  private static final Pattern URL_SAFE = Pattern.compile("[A-Za-z0-9_.-]+");
  /** A node's codec without a cluster token: its own random key. */
  private final PayloadCodec codec = new PayloadCodec(Keyring.inMemory("10.0.0.2:8080"), null);
  /** The key every node without CLUSTER_TOKEN used before this codec: written in the source, so anyone could seal with it. */
  static final byte[] OLD_PUBLIC_KEY = "causalkv/payload/v1".getBytes(StandardCharsets.UTF_8);

  static VectorClock vc(Object... kv) {
    TreeMap<String, Long> m = new TreeMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], ((Number) kv[i + 1]).longValue());
    return VectorClock.of(m);
  }

  static VectorClock randomClock(Random rnd) {
    TreeMap<String, Long> m = new TreeMap<>();
    int n = rnd.nextInt(8);
    for (int i = 0; i < n; i++) {
      String origin = "10.0.0." + rnd.nextInt(256) + ":8080#" + Long.toString(rnd.nextLong() >>> 1, 36)
          + (rnd.nextInt(5) == 0 ? "é✓" : "");
      long counter = switch (rnd.nextInt(4)) {
        case 0 -> 1 + rnd.nextInt(127);
        case 1 -> 128 + rnd.nextInt(1 << 20);
        case 2 -> VectorClock.MAX_COUNTER - rnd.nextInt(3);
        default -> 1 + (rnd.nextLong() >>> 1) % VectorClock.MAX_COUNTER;
      };
      m.put(origin, counter);
    }
    return VectorClock.of(m);
  }

  @Test
  void roundTripsAndIsUrlSafe() {
    Random rnd = new Random(9);
    for (int i = 0; i < 2000; i++) {
      VectorClock c = randomClock(rnd);
      String t = codec.encode(c);
      assertTrue(URL_SAFE.matcher(t).matches(), t);
      assertEquals(c, codec.decode(t));
      assertEquals(t, codec.encode(codec.decode(t)), "one clock, one token");
    }
    assertEquals(VectorClock.EMPTY, codec.decode(codec.encode(VectorClock.EMPTY)));
  }

  @Test
  void bodyIsTheDocumentedCanonicalLayout() {
    byte[] kid = {10, 11, 12, 13, 14, 15};
    byte[] body = PayloadToken.body(vc("b", 300, "a", 1), kid);
    byte[] want = {2, 10, 11, 12, 13, 14, 15, 2, 1, 'a', 1, 1, 'b', (byte) 0xAC, 0x02};
    assertEquals(Base64.getEncoder().encodeToString(want), Base64.getEncoder().encodeToString(body));
    byte[] v1 = {1, 2, 1, 'a', 1, 1, 'b', (byte) 0xAC, 0x02};
    assertEquals(Base64.getEncoder().encodeToString(v1), Base64.getEncoder().encodeToString(PayloadToken.bodyV1(vc("b", 300, "a", 1))));
    String t = codec.encode(vc("a", 1));
    byte[] got = Base64.getUrlDecoder().decode(t.substring(0, t.indexOf('.')));
    assertArrayEquals(codec.keyring().own().id(), java.util.Arrays.copyOfRange(got, 1, 7), "the token names its key");
  }

  @Test
  void acceptsTheTokenAsAJsonStringAndAroundWhitespace() {
    VectorClock c = vc("10.0.0.2:8080#x", 4, "10.0.0.3:8080#y", 9);
    String t = codec.encode(c);
    assertEquals(c, codec.decode(new JsonPrimitive(t).toString())); // json.dumps(token)
    assertEquals(c, codec.decode(" " + t + "\n"));
  }

  /** The old object form's seal covered {@code origin\0counter\n} per entry: one clock's seal fitted another. */
  static String oldObjectForm(java.util.Map<String, Long> entries, byte[] key) {
    StringBuilder canonical = new StringBuilder();
    for (java.util.Map.Entry<String, Long> e : new TreeMap<>(entries).entrySet()) {
      canonical.append(e.getKey()).append('\u0000').append(e.getValue()).append('\n');
    }
    String sig = java.util.HexFormat.of().formatHex(SealKey.hmac(key, canonical.toString().getBytes(StandardCharsets.UTF_8)), 0, 16);
    com.google.gson.JsonObject vcJson = new com.google.gson.JsonObject();
    for (java.util.Map.Entry<String, Long> e : entries.entrySet()) vcJson.addProperty(e.getKey(), e.getValue());
    com.google.gson.JsonObject o = new com.google.gson.JsonObject();
    o.add("vc", vcJson);
    o.addProperty("sig", sig);
    return o.toString();
  }

  @Test
  void theOldObjectFormIsNoLongerAcceptedSinceItsSealCollides() {
    // {"A#1":1,"B#1":2} and {"A#1\u00001\nB#1":2} have the same old canonical text, hence the same seal
    String honest = oldObjectForm(java.util.Map.of("A#1", 1L, "B#1", 2L), OLD_PUBLIC_KEY);
    String collision = oldObjectForm(java.util.Map.of("A#1\u00001\nB#1", 2L), OLD_PUBLIC_KEY);
    assertEquals(Json.object(honest).get("sig"), Json.object(collision).get("sig"), "the collision the old form allowed");
    for (String form : List.of(honest, collision, new JsonPrimitive(collision).toString(),
        oldObjectForm(java.util.Map.of("10.0.0.2:8080#x", 4L), OLD_PUBLIC_KEY))) {
      assertInvalid(form, "no longer accepted");
    }
    PayloadCodec withToken = new PayloadCodec(Keyring.shared("t0k"), "t0k");
    String sealedWithToken = oldObjectForm(java.util.Map.of("A#1\u00001\nB#1", 2L), "t0k".getBytes(StandardCharsets.UTF_8));
    PayloadCodec.InvalidPayload e = assertThrows(PayloadCodec.InvalidPayload.class, () -> withToken.decode(sealedWithToken));
    assertTrue(e.getMessage().contains("no longer accepted"), e.getMessage());
  }

  @Test
  void aVersion1TokenSealedWithThePublicKeyIsRefused() {
    // what anyone could make before: a history claiming 1000 writes of another node, sealed with the key in the source
    byte[] body = PayloadToken.bodyV1(vc("10.0.0.3:8080#b", 1000));
    String forged = PayloadToken.text(body, java.util.Arrays.copyOf(SealKey.hmac(OLD_PUBLIC_KEY, body), 16));
    assertInvalid(forged, "no longer accepted");
    // with a cluster token the old seal was secret: such tokens still work, and only with that token
    byte[] key = "t0k".getBytes(StandardCharsets.UTF_8);
    String old = PayloadToken.text(body, java.util.Arrays.copyOf(SealKey.hmac(key, body), 16));
    assertEquals(vc("10.0.0.3:8080#b", 1000), new PayloadCodec(Keyring.shared("t0k"), "t0k").decode(old));
    assertThrows(PayloadCodec.InvalidPayload.class, () -> new PayloadCodec(Keyring.shared("other"), "other").decode(old));
  }

  @Test
  void emptyFormsMeanNoHistory() {
    for (String empty : new String[] {null, "", "  ", "{}", "\"\"", "null", "\"null\"", "{\"vc\":{}}", "{\"vc\":{},\"sig\":\"00\"}"}) {
      assertEquals(VectorClock.EMPTY, codec.decode(empty), String.valueOf(empty));
    }
  }

  @Test
  void everyTamperedByteIsRefused() {
    String t = codec.encode(vc("10.0.0.2:8080#x", 4, "10.0.0.3:8080#y", 300));
    int dot = t.indexOf('.');
    byte[] body = Base64.getUrlDecoder().decode(t.substring(0, dot));
    byte[] seal = Base64.getUrlDecoder().decode(t.substring(dot + 1));
    for (int i = 0; i < body.length; i++) {
      for (int bit = 0; bit < 8; bit++) {
        byte[] b = body.clone();
        b[i] ^= (byte) (1 << bit);
        assertRefused(PayloadToken.text(b, seal));
      }
    }
    for (int i = 0; i < seal.length; i++) {
      byte[] s = seal.clone();
      s[i] ^= 1;
      assertInvalid(PayloadToken.text(body, s), "integrity");
    }
    // every character of the text, including base64's spare bits in the last one of each part
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int i = 0; i < t.length(); i++) {
      if (t.charAt(i) == '.') continue;
      for (char c : alphabet.toCharArray()) {
        if (c == t.charAt(i)) continue;
        assertRefused(t.substring(0, i) + c + t.substring(i + 1));
      }
    }
  }

  @Test
  void aTokenOfAKeyNotLearntYetIsUnknownUntilLearnt() {
    Keyring other = Keyring.inMemory("10.0.0.3:8080");
    String t = new PayloadCodec(other, null).encode(vc("10.0.0.3:8080#b", 1));
    PayloadCodec.UnknownKey u = assertThrows(PayloadCodec.UnknownKey.class, () -> codec.decode(t));
    assertArrayEquals(other.own().id(), u.keyId());
    assertEquals(t, u.token());
    assertEquals(t, assertThrows(PayloadCodec.UnknownKey.class, () -> codec.decode(new JsonPrimitive(t).toString())).token());
    codec.keyring().learn(other.toShare());
    assertEquals(vc("10.0.0.3:8080#b", 1), codec.decode(t));
  }

  @Test
  void aTokenNamingAKnownKeyButSealedWithAnotherIsRefused() {
    byte[] body = PayloadToken.body(vc("10.0.0.3:8080#b", 1000), codec.keyring().own().id());
    byte[] guess = new byte[32]; // an outsider's key: the id is public, the secret is not
    String forged = PayloadToken.text(body, java.util.Arrays.copyOf(SealKey.hmac(guess, body), 16));
    assertInvalid(forged, "integrity");
  }

  @Test
  void aClusterTokenDerivesTheSameKeyOnEveryNodeAndNotTheTokenItself() {
    PayloadCodec a = new PayloadCodec(Keyring.shared("s3cret"), "s3cret");
    PayloadCodec b = new PayloadCodec(Keyring.shared("s3cret"), "s3cret");
    assertEquals(vc("a:1#x", 3), b.decode(a.encode(vc("a:1#x", 3))));
    assertThrows(PayloadCodec.UnknownKey.class, () -> new PayloadCodec(Keyring.shared("other"), "other").decode(a.encode(vc("a:1#x", 3))));
    assertFalse(java.util.Arrays.equals("s3cret".getBytes(StandardCharsets.UTF_8), Keyring.shared("s3cret").own().secret()));
    assertTrue(Keyring.shared("s3cret").toShare().isEmpty(), "nothing to hand out");
  }

  @Test
  void peekReadsWithoutChecking() {
    String t = new PayloadCodec(Keyring.inMemory("x:1"), null).encode(vc("x:1#a", 7));
    assertEquals(vc("x:1#a", 7), PayloadCodec.peek(t));
    assertEquals(vc("x:1#a", 7), PayloadCodec.peek(new JsonPrimitive(t).toString()));
  }

  @Test
  void truncationIsRefused() {
    String t = codec.encode(vc("10.0.0.2:8080#x", 4, "10.0.0.3:8080#y", 300));
    for (int n = 1; n < t.length(); n++) assertInvalid(t.substring(0, n), null);
    // a truncated body under a correct seal (as if the key were known) is refused by the parser
    byte[] body = PayloadToken.body(vc("10.0.0.2:8080#x", 4, "10.0.0.3:8080#y", 300), new byte[6]);
    for (int n = 0; n < body.length; n++) {
      byte[] cut = java.util.Arrays.copyOf(body, n);
      assertThrows(PayloadCodec.InvalidPayload.class, () -> PayloadToken.parse(cut), "cut at " + n);
    }
  }

  @Test
  void nonCanonicalBodiesAreRefusedEvenWhenSealed() {
    List<byte[]> bad = List.of(
        new byte[] {3, 0},                                   // unknown version
        new byte[] {2, 0, 0, 0, 0, 0},                       // key id cut short
        new byte[] {2, 0, 0, 0, 0, 0, 0, 0, 0},              // version 2: trailing byte
        new byte[] {2, 0, 0, 0, 0, 0, 0, 1, 1, 'a', (byte) 0x81, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80,
            (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01}, // counter 2^56+1: above the 2^53 bound
        new byte[] {1, 0, 0},                                // trailing byte
        new byte[] {1, (byte) 0x80, 0},                      // over-long count
        new byte[] {1, 1, 1, 'a', 0},                        // zero counter
        new byte[] {1, 2, 1, 'b', 1, 1, 'a', 1},             // unsorted
        new byte[] {1, 2, 1, 'a', 1, 1, 'a', 2},             // duplicate origin
        new byte[] {1, 1, 0, 1},                             // empty origin
        new byte[] {1, 1, 1, (byte) 0xFF, 1},                // origin not UTF-8
        new byte[] {1, 1, 1, 'a', (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF,
            (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 1}); // counter beyond a long
    for (byte[] b : bad) assertThrows(PayloadCodec.InvalidPayload.class, () -> PayloadToken.parse(b));
  }

  @Test
  void capsAreRefusedClearly() {
    TreeMap<String, Long> m = new TreeMap<>();
    for (int i = 0; i <= PayloadToken.MAX_ENTRIES; i++) m.put("n" + i, 1L);
    VectorClock big = VectorClock.of(m);
    assertInvalid(codec.encode(big), "more than 1000 entries");
    m.remove("n0");
    assertEquals(1000, codec.decode(codec.encode(VectorClock.of(m))).size(), "exactly the cap is fine");
    assertInvalid("A".repeat(PayloadToken.MAX_CHARS + 10), "longer than");
  }

  @Test
  void otherShapesAreRefused() {
    for (String bad : new String[] {"not json", "[1,2]", "42", "true", "{\"vc\":\"nope\"}", "{\"other\":1}",
        "{\"vc\":{\"x#1\":-3},\"sig\":\"00\"}", "{\"vc\":{\"x#1\":1.5},\"sig\":\"00\"}", "abc", "a.b.c", ".", "a.",
        "\"[1]\"", "\"not a token\"", "AQA=.AAAA"}) {
      assertThrows(PayloadCodec.InvalidPayload.class, () -> codec.decode(bad), bad);
    }
  }

  /** Refused: invalid, or naming a key nobody has (a changed key id); never accepted. */
  private void assertRefused(String text) {
    RuntimeException e = assertThrows(RuntimeException.class, () -> codec.decode(text), text);
    assertTrue(e instanceof PayloadCodec.InvalidPayload || e instanceof PayloadCodec.UnknownKey, e.toString());
  }

  private void assertInvalid(String text, String mentions) {
    PayloadCodec.InvalidPayload e = assertThrows(PayloadCodec.InvalidPayload.class, () -> codec.decode(text), text);
    if (mentions != null) assertTrue(e.getMessage().contains(mentions), e.getMessage());
    assertTrue(e.getMessage().getBytes(StandardCharsets.UTF_8).length < 200, "one short line: " + e.getMessage());
  }
}
