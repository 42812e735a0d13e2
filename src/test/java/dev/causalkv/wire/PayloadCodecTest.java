package dev.causalkv.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonPrimitive;
import dev.causalkv.core.VectorClock;
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
  private final PayloadCodec codec = new PayloadCodec(null);

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
        case 2 -> Long.MAX_VALUE - rnd.nextInt(3);
        default -> 1 + (rnd.nextLong() >>> 1) % Long.MAX_VALUE;
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
    byte[] body = PayloadToken.body(vc("b", 300, "a", 1));
    byte[] want = {1, 2, 1, 'a', 1, 1, 'b', (byte) 0xAC, 0x02};
    assertEquals(Base64.getEncoder().encodeToString(want), Base64.getEncoder().encodeToString(body));
  }

  @Test
  void acceptsTheTokenAsAJsonStringAndAroundWhitespace() {
    VectorClock c = vc("10.0.0.2:8080#x", 4, "10.0.0.3:8080#y", 9);
    String t = codec.encode(c);
    assertEquals(c, codec.decode(new JsonPrimitive(t).toString())); // json.dumps(token)
    assertEquals(c, codec.decode(" " + t + "\n"));
  }

  @Test
  void acceptsTheOldObjectFormAndAJsonStringHoldingIt() {
    VectorClock c = vc("10.0.0.2:8080#x", 4, "10.0.0.3:8080#y", 9);
    String object = Json.toJson(codec.legacyObject(c));
    assertTrue(object.startsWith("{\"vc\":{"), object);
    assertEquals(c, codec.decode(object));
    assertEquals(c, codec.decode(new JsonPrimitive(object).toString()));
    // its old seal is still checked
    String edited = object.replace("\"10.0.0.3:8080#y\":9", "\"10.0.0.3:8080#y\":8");
    assertNotEquals(object, edited);
    assertInvalid(edited, "integrity");
    assertInvalid(object.replaceAll(",\"sig\":\"[0-9a-f]+\"", ""), "integrity");
  }

  @Test
  void emptyFormsMeanNoHistory() {
    for (String empty : new String[] {null, "", "  ", "{}", "\"\"", "null", "\"null\"", "{\"vc\":{}}"}) {
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
        assertInvalid(PayloadToken.text(b, seal), null);
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
        assertInvalid(t.substring(0, i) + c + t.substring(i + 1), null);
      }
    }
  }

  @Test
  void aTokenSealedWithAnotherKeyIsRefused() {
    String t = new PayloadCodec("other-cluster").encode(vc("a", 1));
    assertInvalid(t, "integrity");
    assertEquals(vc("a", 1), new PayloadCodec("other-cluster").decode(t));
  }

  @Test
  void truncationIsRefused() {
    String t = codec.encode(vc("10.0.0.2:8080#x", 4, "10.0.0.3:8080#y", 300));
    for (int n = 1; n < t.length(); n++) assertInvalid(t.substring(0, n), null);
    // a truncated body under a correct seal (as if the key were known) is refused by the parser
    byte[] body = PayloadToken.body(vc("10.0.0.2:8080#x", 4, "10.0.0.3:8080#y", 300));
    for (int n = 0; n < body.length; n++) {
      byte[] cut = java.util.Arrays.copyOf(body, n);
      assertThrows(PayloadCodec.InvalidPayload.class, () -> PayloadToken.parse(cut), "cut at " + n);
    }
  }

  @Test
  void nonCanonicalBodiesAreRefusedEvenWhenSealed() {
    List<byte[]> bad = List.of(
        new byte[] {2, 0},                                   // unknown version
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
    assertInvalid(Json.toJson(codec.legacyObject(big)), "more than 1000 entries");
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

  private void assertInvalid(String text, String mentions) {
    PayloadCodec.InvalidPayload e = assertThrows(PayloadCodec.InvalidPayload.class, () -> codec.decode(text), text);
    if (mentions != null) assertTrue(e.getMessage().contains(mentions), e.getMessage());
    assertTrue(e.getMessage().getBytes(StandardCharsets.UTF_8).length < 200, "one short line: " + e.getMessage());
  }
}
