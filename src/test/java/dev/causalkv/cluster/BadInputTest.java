package dev.causalkv.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.causalkv.core.VectorClock;
import dev.causalkv.wire.Json;
import dev.causalkv.wire.PayloadCodec;
import dev.causalkv.cluster.Client.Reply;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Bad input gets a clear JSON 4xx, changes nothing, and leaves the node serving its data. */
@Timeout(60)
class BadInputTest {

  static TestCluster cluster;
  static String a;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(1);
    a = cluster.id(0);
    assertEquals(200, new Client().put(a, "keep", "intact").status());
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  private static void assertIntact() {
    Reply r = new Client().get(a, "keep");
    assertEquals(200, r.status());
    assertEquals("intact", r.json().get("value").getAsString());
  }

  private static void assertError(Reply r, int status, String msg) {
    assertEquals(status, r.status(), r.raw());
    assertEquals("Error", r.json().get("result").getAsString(), r.raw());
    if (msg != null) assertEquals(msg, r.msg(), r.raw());
    assertFalse(r.raw().contains("Exception"), "no stack trace: " + r.raw());
    assertFalse(r.raw().contains("\tat "), "no stack trace: " + r.raw());
    assertIntact();
  }

  @Test
  void malformedPayloadsAreRefused() {
    for (String bad : List.of("not json", "[1,2]", "42", "AQA.AAAAAAAAAAAAAAAAAAAAAA", "\"not a token\"", "{\"vc\":{\"x#1\":-3},\"sig\":\"00\"}",
        "{\"vc\":\"nope\"}", "{\"vc\":{\"x#1\":1.5},\"sig\":\"00\"}", "{\"other\":1}")) {
      assertError(Client.send("GET", a, "/keyValue-store/keep", "payload", bad), 400, "Payload is not valid");
      assertError(Client.send("PUT", a, "/keyValue-store/newkey", "val", "v", "payload", bad), 400, "Payload is not valid");
    }
    assertEquals(404, new Client().get(a, "newkey").status(), "nothing was written");
  }

  @Test
  void tamperedPayloadsAreRefusedAndWriteNothing() {
    Client x = new Client();
    x.put(a, "t1", "one");
    x.put(a, "t2", "two");
    String token = x.payload;
    assertTrue(token.matches("[A-Za-z0-9_.-]+"), "an opaque URL-safe token: " + token);
    VectorClock vc = PayloadCodec.peek(token);
    String origin = vc.asMap().keySet().iterator().next();

    // a token with any character changed is refused (one that changes the key id names a key
    // nobody has: after the wait, "Payload out of date", the edited token handed back, nothing written)
    for (int i = 0; i < token.length(); i += 3) {
      if (token.charAt(i) == '.') continue;
      String t = token.substring(0, i) + (token.charAt(i) == 'A' ? 'B' : 'A') + token.substring(i + 1);
      Reply r = Client.send("PUT", a, "/keyValue-store/t3", "val", "x", "payload", t);
      assertError(r, 400, null);
      assertTrue(List.of("Payload is not valid", "Payload out of date").contains(r.msg()), r.raw());
    }
    // the old object form (its seal could be forged: see PayloadCodecTest) is refused, edited or not
    JsonObject p = new JsonObject();
    p.add("vc", Json.encode(vc));
    p.addProperty("sig", "0123456789abcdef0123456789abcdef");
    for (String form : List.of(p.toString(), new JsonPrimitive(p.toString()).toString())) {
      Reply r = Client.send("PUT", a, "/keyValue-store/t3", "val", "x", "payload", form);
      assertError(r, 400, "Payload is not valid");
      assertTrue(r.json().get("detail").getAsString().contains("no longer accepted"), r.raw());
    }
    assertEquals(404, new Client().get(a, "t3").status(), "nothing was written");

    // accepted: the token raw, as a JSON string (json.dumps), in the query string
    assertEquals(200, Client.send("GET", a, "/keyValue-store/t1", "payload", token).status());
    assertEquals(200, Client.send("GET", a, "/keyValue-store/t1", "payload", new JsonPrimitive(token).toString()).status());
    assertEquals(200, Client.rawPath("GET", a, "/keyValue-store/t1?payload=" + token, "").status());
    // empty payloads mean no history
    for (String empty : List.of("{}", "", "\"\"", "null")) {
      assertEquals(200, Client.send("GET", a, "/keyValue-store/t1", "payload", empty).status(), empty);
    }
  }

  /**
   * Python requests sends a dict form value as its keys ({@code data={'payload': {'vc':..,'sig':..}}}
   * becomes {@code payload=vc&payload=sig}): refused with a message that says what to do, never
   * read as no history.
   */
  @Test
  void aRepeatedPayloadIsRefusedWithAHint() {
    Client x = new Client();
    x.put(a, "r1", "one");
    Reply r = Client.rawPath("PUT", a, "/keyValue-store/r2", "val=x&payload=vc&payload=sig");
    assertError(r, 400, "Payload is not valid");
    assertTrue(r.json().get("detail").getAsString().contains("send the payload as one string"), r.raw());
    r = Client.rawPath("GET", a, "/keyValue-store/r1", "payload=" + x.payload + "&payload=" + x.payload);
    assertError(r, 400, "Payload is not valid");
    r = Client.rawPath("GET", a, "/keyValue-store/r1?payload=vc&payload=sig", "");
    assertError(r, 400, "Payload is not valid");
    assertEquals(404, new Client().get(a, "r2").status(), "nothing was written");
    // one payload in the body and another in the query string: the body's counts, as for every parameter
    r = Client.rawPath("GET", a, "/keyValue-store/r1?payload=junk", "payload=" + x.payload);
    assertEquals(200, r.status(), r.raw());
  }

  @Test
  void oversizedPayloadsAreRefusedClearly() {
    java.util.TreeMap<String, Long> m = new java.util.TreeMap<>();
    for (int i = 0; i < 1001; i++) m.put("10.0.0.9:8080#o" + i, 1L);
    Reply r = Client.send("GET", a, "/keyValue-store/keep", "payload", cluster.node(a).payloads().encode(VectorClock.of(m)));
    assertError(r, 400, "Payload is not valid");
    assertTrue(r.json().get("detail").getAsString().contains("more than 1000 entries"), r.raw());
    r = Client.send("GET", a, "/keyValue-store/keep", "payload", "A".repeat(300_000));
    assertError(r, 400, "Payload is not valid");
    assertTrue(r.json().get("detail").getAsString().contains("longer than"), r.raw());
  }

  @Test
  void keyAndValueLimits() {
    assertError(Client.send("PUT", a, "/keyValue-store/" + "k".repeat(201), "val", "v"), 400, "Key not valid");
    assertError(Client.send("PUT", a, "/keyValue-store/", "val", "v"), 400, "Key not valid");
    assertError(Client.send("GET", a, "/keyValue-store/" + "k".repeat(201)), 400, "Key not valid");
    assertEquals(200, Client.send("PUT", a, "/keyValue-store/" + "k".repeat(200), "val", "v").status());
    assertError(Client.send("PUT", a, "/keyValue-store/big", "val", "x".repeat(1024 * 1024 + 1)), 400,
        "Object too large. Size limit is 1MB");
    assertEquals(200, Client.send("PUT", a, "/keyValue-store/big", "val", "x".repeat(1024 * 1024)).status());
    // a 1 MB value that form-encodes to 3 MB (Undertow's own 2 MB default once refused it with an empty 400)
    String accents = "\u00e9".repeat(500_000);
    assertEquals(201, Client.send("PUT", a, "/keyValue-store/big", "val", accents).status());
    assertEquals(accents, new Client().get(a, "big").json().get("value").getAsString());
    assertError(Client.send("PUT", a, "/keyValue-store/big2", "val", "x".repeat(3 * 1024 * 1024)), 400,
        "Object too large. Size limit is 1MB");
    assertError(Client.send("PUT", a, "/keyValue-store/noval"), 400, "Value is missing");
    assertEquals(404, new Client().get(a, "noval").status());
  }

  /** A body over the 4 MB limit: a JSON 413, however it is sent, and the node goes on serving. */
  @Test
  void anOversizedBodyGetsAJson413() throws Exception {
    byte[] big = new byte[5 * 1024 * 1024];
    java.util.Arrays.fill(big, (byte) 'a');
    java.net.URI uri = java.net.URI.create("http://" + a + "/keyValue-store/huge");
    List<java.net.http.HttpRequest> ways = List.of(
        // Content-Length, sent at once (Python requests, Java)
        java.net.http.HttpRequest.newBuilder(uri).method("PUT", java.net.http.HttpRequest.BodyPublishers.ofByteArray(big)).build(),
        // chunked, length unknown until the end
        java.net.http.HttpRequest.newBuilder(uri).method("PUT", java.net.http.HttpRequest.BodyPublishers.ofInputStream(
            () -> new java.io.ByteArrayInputStream(big))).build());
    for (java.net.http.HttpRequest req : ways) {
      java.net.http.HttpResponse<String> resp = java.net.http.HttpClient.newHttpClient().send(req,
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals(413, resp.statusCode(), resp.body());
      assertEquals("application/json", resp.headers().firstValue("Content-Type").orElse(""));
      JsonObject o = JsonParser.parseString(resp.body()).getAsJsonObject();
      assertEquals("Error", o.get("result").getAsString());
      assertTrue(o.get("msg").getAsString().startsWith("Request body too large"), resp.body());
    }
    // Expect: 100-continue (curl does this for large bodies): refused before the body is sent. By
    // hand: JDK 17's client waits for ever when the answer to it is not 100 (JDK-8286171).
    int port = Integer.parseInt(a.substring(a.indexOf(':') + 1));
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(("PUT /keyValue-store/huge HTTP/1.1\r\nHost: x\r\nContent-Length: " + big.length
          + "\r\nExpect: 100-continue\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      String answer = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      assertTrue(answer.startsWith("HTTP/1.1 413"), answer);
      assertTrue(answer.contains("Content-Type: application/json"), answer);
      assertTrue(answer.endsWith("{\"result\":\"Error\",\"msg\":\"Request body too large: at most 4194304 bytes\"}\n"), answer);
    }
    assertEquals(404, new Client().get(a, "huge").status(), "nothing was written");
    assertIntact();
  }

  @Test
  void parametersComeFromTheQueryStringToo() {
    Reply r = Client.rawPath("PUT", a, "/keyValue-store/q1?val=fromquery", "");
    assertEquals(200, r.status(), r.raw());
    assertEquals("fromquery", new Client().get(a, "q1").json().get("value").getAsString());
    // the body wins over the query string; '&&' as in the assignment's examples is tolerated
    r = Client.rawPath("PUT", a, "/keyValue-store/q1?val=ignored", "val=frombody&&payload=");
    assertEquals(201, r.status(), r.raw());
    assertEquals("frombody", new Client().get(a, "q1").json().get("value").getAsString());
  }

  @Test
  void unknownPathsMethodsAndGarbage() {
    assertError(Client.send("GET", a, "/nope"), 404, "Not found");
    assertError(Client.send("PATCH", a, "/keyValue-store/keep"), 405, "Method not allowed");
    assertError(Client.send("POST", a, "/view"), 405, "Method not allowed");
    assertError(Client.send("POST", a, "/keyValue-store/keep", "val", "x"), 405, "Method not allowed");
    // a key GET would route to a search could never be read back: refused
    assertError(Client.send("PUT", a, "/keyValue-store/search/x", "val", "v"), 400, "Key not valid");
    assertError(Client.rawPath("PUT", a, "/keyValue-store/search%2Fx", "val=v"), 400, "Key not valid");
    assertError(Client.send("PUT", a, "/view", "ip_port", "garbage"), 400, null);
    assertError(Client.send("PUT", a, "/view", "ip_port", "1.2.3.4:99999"), 400, null);
    assertError(Client.send("PUT", a, "/view"), 400, "ip_port is missing");
    assertError(Client.send("DELETE", a, "/view", "ip_port", "::::"), 400, null);
    assertError(Client.rawPath("PUT", a, "/keyValue-store/bad", "val=%zz"), 400, null);
    assertError(Client.rawPath("POST", a, "/internal/pull", "{not json"), 400, null);
    assertError(Client.rawPath("POST", a, "/internal/pull", "{\"from\":\"x:1\",\"applied\":[]}"), 400, null);
    assertError(Client.rawPath("PUT", a, "/internal/view", "{\"from\":\"x:1\",\"view\":{\"a:1\":7}}"), 400, null);
    assertError(Client.rawPath("PUT", a, "/internal/view", "{\"from\":\"not an id\",\"view\":{}}"), 400, null);
    assertError(Client.rawPath("POST", a, "/internal/pull", "{\"from\":\"x:1\",\"applied\":{\"x:1#a\":" + Long.MAX_VALUE + "}}"), 400, null);
    assertError(Client.rawPath("POST", a, "/internal/pull", "{\"from\":\"x:1\",\"applied\":{\"no origin\":1}}"), 400, null);
    Reply refused = Client.rawPath("POST", a, "/internal/pull", "{\"from\":\"9.9.9.9:1\",\"applied\":{}}");
    assertEquals(403, refused.status(), "non-members are refused");
    assertTrue(Client.send("GET", a, "/view").json().get("view").getAsString().equals(a));
    assertIntact();
  }
}
