package dev.causalkv.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.causalkv.cluster.Client.Reply;
import dev.causalkv.core.ViewState;
import dev.causalkv.security.Keyring;
import dev.causalkv.security.SealKey;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nobody forges their way in (issue 10), on real nodes over HTTP, without a cluster token unless
 * said: payloads no outsider can seal, peers that are who they say, views that cannot be
 * overflowed, admin closed to strangers. Distinct loopback addresses (127.0.0.2, ...) stand for
 * distinct hosts; 127.0.0.9 is the stranger.
 */
@Timeout(120)
class SecurityTest {

  static final byte[] OLD_PUBLIC_KEY = "causalkv/payload/v1".getBytes(StandardCharsets.UTF_8);
  static final String STRANGER = "127.0.0.9";

  // ---------------------------------------------------------------- payloads

  @Test
  void aForgedOriginPayloadIsRefusedAndTheOriginsOwnWritesStillWork() {
    try (TestCluster c = TestCluster.start(2, Map.of("CAUSAL_WAIT_MS", "300"))) {
      String a = c.id(0), b = c.id(1);
      assertEquals(200, new Client().put(b, "seed", "x").status());
      Map<String, Long> claim = Map.of(c.node(b).core().origin(), 1000L); // 999 writes B never made
      // the attack: sealed with the key that used to be written in the source
      String withOldKey = token(body(1, null, claim), OLD_PUBLIC_KEY);
      // A's key id is public (it is in every token A hands out); its secret is not
      String guessedKey = token(body(2, c.node(a).payloads().keyring().own().id(), claim), new byte[32]);
      for (String forged : List.of(withOldKey, guessedKey)) {
        Reply r = Client.send("PUT", a, "/keyValue-store/k", "val", "forged", "payload", forged);
        assertEquals(400, r.status(), r.raw());
        assertEquals("Payload is not valid", r.msg(), r.raw());
      }
      // a key id nobody has: held like an uncovered payload, then "Payload out of date", the payload handed back as sent
      byte[] someId = new byte[SealKey.ID_BYTES];
      new SecureRandom().nextBytes(someId);
      String unknownKey = token(body(2, someId, claim), new byte[32]);
      Reply r = Client.send("PUT", a, "/keyValue-store/k", "val", "forged", "payload", unknownKey);
      assertEquals(400, r.status(), r.raw());
      assertEquals("Payload out of date", r.msg(), r.raw());
      assertEquals(unknownKey, r.payload());
      assertEquals(400, Client.send("GET", a, "/keyValue-store/seed", "payload", unknownKey).status());

      // nothing was written, and B's own clients write k as ever
      assertEquals(404, new Client().get(a, "k").status());
      assertEquals(404, new Client().get(b, "k").status());
      Client bc = new Client();
      assertEquals(200, bc.put(b, "k", "honest").status());
      assertEquals("honest", bc.get(b, "k").json().get("value").getAsString());
      assertEquals("honest", bc.get(a, "k").json().get("value").getAsString());
    }
  }

  @Test
  void theOldObjectFormsSealCollisionIsRefused() {
    try (TestCluster c = TestCluster.start(1)) {
      String a = c.id(0);
      // {"A#1":1,"B#1":2} and {"A#1\u00001\nB#1":2} had one canonical text, so one seal
      String honest = objectForm(Map.of("A#1", 1L, "B#1", 2L));
      String collision = objectForm(Map.of("A#1\u00001\nB#1", 2L));
      assertEquals(JsonParser.parseString(honest).getAsJsonObject().get("sig"), JsonParser.parseString(collision).getAsJsonObject().get("sig"));
      for (String p : List.of(honest, collision)) {
        Reply r = Client.send("GET", a, "/keyValue-store/x", "payload", p);
        assertEquals(400, r.status(), r.raw());
        assertEquals("Payload is not valid", r.msg());
        assertTrue(r.json().get("detail").getAsString().contains("no longer accepted"), r.raw());
      }
    }
  }

  @Test
  void aPayloadSealedByANodeNotHeardFromYetWaitsForItsKey() throws Exception {
    try (TestCluster c = TestCluster.empty(Map.of("CAUSAL_WAIT_MS", "400"))) {
      String a = TestCluster.newId(), n = TestCluster.newId();
      c.startNode(a, List.of(a));
      c.startNode(n, List.of(n)); // not in a's view: has never pulled from it
      Client x = new Client();
      assertEquals(200, x.put(a, "k", "v").status());
      Reply r = x.get(n, "k");
      assertEquals(400, r.status(), r.raw());
      assertEquals("Payload out of date", r.msg(), "not 'not valid': the key may come");
      assertEquals(x.payload, r.payload(), "the client's payload handed back unchanged");
    }
    try (TestCluster c = TestCluster.empty(Map.of("CAUSAL_WAIT_MS", "8000"))) {
      String a = TestCluster.newId(), n = TestCluster.newId();
      c.startNode(a, List.of(a));
      c.startNode(n, List.of(a, n)); // as a joining node starts: a refuses its pulls (no member yet), so no key
      Client x = new Client();
      assertEquals(200, x.put(a, "k", "v").status());
      CompletableFuture<Reply> waiting = Client.sendAsync("GET", n, "/keyValue-store/k", "payload", x.payload);
      Thread.sleep(300);
      assertFalse(waiting.isDone(), "waits for the key, holding no answer back as invalid");
      // n joins a's view: its first admitted pull from a brings a's key (and the data), and the read goes on
      assertEquals(200, Client.send("PUT", a, "/view", "ip_port", n).status());
      Reply r = waiting.join();
      assertEquals(200, r.status(), r.raw());
      assertEquals("v", r.json().get("value").getAsString());
    }
  }

  @Test
  void theSealKeyIsKeptOwnerOnlyInTheDataDirectoryAndSurvivesARestart(@TempDir Path dir) throws Exception {
    try (TestCluster c = TestCluster.empty(Map.of("CAUSAL_WAIT_MS", "300"))) {
      String a = TestCluster.newId();
      Map<String, String> env = Map.of("DATA_DIR", dir.resolve("a").toString());
      c.startNode(a, List.of(a), env);
      Client x = new Client();
      assertEquals(200, x.put(a, "k", "v").status());
      Path key = dir.resolve("a").resolve(Keyring.OWN_FILE);
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
      String before = Files.readString(key);
      c.kill(a);
      c.startNode(a, List.of(a), env);
      assertEquals(before, Files.readString(key), "the same key after a restart");
      assertEquals(200, x.get(a, "k").status(), "payloads handed out before the restart still check");
    }
  }

  // ---------------------------------------------------------------- views

  @Test
  void anOverflowingViewEntryIsRefusedWhereverItComesFrom() {
    try (TestCluster c = TestCluster.start(2)) {
      String a = c.id(0), b = c.id(1);
      List<String> badEntries = List.of(
          "[false," + Long.MAX_VALUE + ",\"" + b + "\"]",          // the entry, with a well-formed author
          "[false," + Long.MAX_VALUE + ",\"z\"]",                  // ... and as the issue sent it
          "[false," + (ViewState.MAX_COUNTER + 1) + ",\"" + b + "\"]",
          "[false," + (ViewState.MAX_COUNTER_AHEAD + 10) + ",\"" + b + "\"]", // far ahead of a's highest
          "[false,3,\"not an id\"]",
          "[true,0,\"" + b + "\"]",                                // stamp 0 is a configured entry: no author
          "[false,3,\"" + b + "\",{\"10.9.9.9:1#x\":4}]",          // drained clock naming another node
          "[true,3,\"" + b + "\",{\"" + b + "#x\":4}]",            // present with a drained clock
          "[false,-1,\"" + b + "\"]",
          "[false]");
      for (String e : badEntries) {
        String view = "{\"" + b + "\":" + e + "}";
        Reply r = Client.rawPath("PUT", a, "/internal/view", "{\"from\":\"" + b + "\",\"view\":" + view + "}");
        assertEquals(400, r.status(), e + ": " + r.raw());
        r = Client.rawPath("POST", a, "/internal/pull", "{\"from\":\"" + b + "\",\"applied\":{},\"view\":" + view + "}");
        assertEquals(400, r.status(), e + ": " + r.raw());
      }
      Reply r = Client.rawPath("PUT", a, "/internal/view", "{\"from\":\"" + b + "\",\"view\":{\"no-port\":[false,3,\"" + b + "\"]}}");
      assertEquals(400, r.status(), r.raw());
      assertEquals(List.of(a, b).stream().sorted().toList(), c.node(a).core().members(), "the view did not change");
      // and the next view change is stamped as usual, and wins
      String d = TestCluster.newId();
      assertEquals(200, Client.send("PUT", a, "/view", "ip_port", d).status());
      assertTrue(c.node(a).core().meta().view().entries().get(d).counter() < 10);
      assertTrue(c.node(a).core().members().contains(d));
      assertEquals(200, Client.send("DELETE", a, "/view", "ip_port", d).status());
    }
  }

  // ---------------------------------------------------------------- peers

  @Test
  void aNonMemberCallingInternalEndpointsWithAMembersFromIsRefused() {
    try (TestCluster c = TestCluster.startOn(List.of("127.0.0.2", "127.0.0.3"), Map.of("CAUSAL_WAIT_MS", "3000"))) {
      String a = c.id(0), b = c.id(1);
      Client w = new Client();
      assertEquals(200, w.put(a, "secret", "s3cret-value").status());
      assertEquals("s3cret-value", w.get(b, "secret").json().get("value").getAsString(), "members replicate");
      assertEquals(0, c.node(a).metrics().snapshot().getOrDefault("peer.confirm_asked", 0L), "no call-back when addresses match");

      FromAddress stranger = new FromAddress(STRANGER);
      try {
        String pull = "{\"from\":\"" + b + "\",\"applied\":{},\"mode\":\"all\"}";
        FromAddress.Answer r = stranger.call("POST", a, "/internal/pull", pull);
        assertEquals(403, r.status(), r.body());
        assertFalse(r.body().contains("s3cret-value"), r.body());
        // with a made-up nonce: a asks b, which never issued it
        r = stranger.call("POST", a, "/internal/pull", pull, Map.of("X-Peer-Nonce", "made-up-nonce"));
        assertEquals(403, r.status(), r.body());
        assertFalse(r.body().contains("s3cret-value"), r.body());
        assertTrue(c.node(a).metrics().snapshot().getOrDefault("peer.confirm_asked", 0L) >= 1);
        // a push "from b" removing a, and a view change "from b"
        r = stranger.call("PUT", a, "/internal/view", "{\"from\":\"" + b + "\",\"view\":{\"" + a + "\":[false,7,\"" + b + "\"]}}");
        assertEquals(403, r.status(), r.body());
        r = stranger.call("POST", a, "/internal/view-change?ip_port=" + b + "&from=" + b, "");
        assertEquals(403, r.status(), r.body());
        // in its own name it is no member either
        r = stranger.call("POST", a, "/internal/pull", "{\"from\":\"" + STRANGER + ":4444\",\"applied\":{}}");
        assertEquals(403, r.status(), r.body());
        assertFalse(r.body().contains("s3cret-value"), r.body());
        JsonObject err = JsonParser.parseString(stranger.call("PUT", a, "/internal/view",
            "{\"from\":\"" + b + "\",\"view\":{}}").body()).getAsJsonObject();
        assertEquals("Error", err.get("result").getAsString(), "refusals are JSON");
      } finally {
        stranger.close();
      }
      assertTrue(c.node(a).core().members().contains(a) && c.node(a).core().members().contains(b), "view unchanged");
      assertTrue(c.node(a).metrics().snapshot().getOrDefault("internal.impostor_refused", 0L) >= 4);
      assertEquals("later", replicate(w, a, b, "after", "later"));
    }
  }

  @Test
  void peersBehindNatAreConfirmedByCallBackAndImpostorsThereAreNot() throws Exception {
    // the course's set-up: each node reached at a published port, every caller seen as the gateway
    String gateway = STRANGER;
    int pa = TestCluster.freePort(), pb = TestCluster.freePort(), qa = TestCluster.freePort(), qb = TestCluster.freePort();
    String a = "127.0.0.4:" + qa, b = "127.0.0.5:" + qb;
    try (NatForwarder fa = new NatForwarder("127.0.0.4", qa, "127.0.0.2", pa, gateway);
        NatForwarder fb = new NatForwarder("127.0.0.5", qb, "127.0.0.3", pb, gateway);
        TestCluster c = TestCluster.empty(Map.of("CAUSAL_WAIT_MS", "5000"))) {
      c.startNode(a, List.of(a, b), Map.of("PORT", String.valueOf(pa), "BIND", "127.0.0.2"));
      c.startNode(b, List.of(a, b), Map.of("PORT", String.valueOf(pb), "BIND", "127.0.0.3"));
      c.awaitKeysExchanged();
      Client w = new Client();
      assertEquals("v1", replicate(w, a, b, "nat1", "v1"));
      assertEquals("v2", replicate(w, b, a, "nat2", "v2"));
      long asked = c.node(a).metrics().snapshot().getOrDefault("peer.confirm_asked", 0L)
          + c.node(b).metrics().snapshot().getOrDefault("peer.confirm_asked", 0L);
      assertTrue(asked >= 2, "each side confirmed the other by call-back: " + asked);

      // a neighbour behind the same gateway, claiming to be a: directly, and through the published port
      FromAddress neighbour = new FromAddress(gateway);
      try {
        String pull = "{\"from\":\"" + a + "\",\"applied\":{}}";
        for (String target : List.of("127.0.0.3:" + pb, b)) {
          FromAddress.Answer r = neighbour.call("POST", target, "/internal/pull", pull, Map.of("X-Peer-Nonce", "guessed"));
          assertEquals(403, r.status(), r.body());
          assertFalse(r.body().contains("v1"), r.body());
        }
      } finally {
        neighbour.close();
      }
    }
  }

  // ---------------------------------------------------------------- admin and the token

  @Test
  void adminAnswersOnlyLoopbackMembersAndAdminFrom() {
    try (TestCluster c = TestCluster.startOn(List.of("127.0.0.2", "127.0.0.3"), Map.of())) {
      String a = c.id(0);
      Client w = new Client();
      for (int i = 0; i < 300; i++) assertEquals(200, w.put(a, "k" + i, "v" + i).status());
      FromAddress stranger = new FromAddress(STRANGER);
      FromAddress member = new FromAddress("127.0.0.3");
      try {
        for (String path : List.of("/admin/state", "/admin/stats")) {
          FromAddress.Answer r = stranger.call("GET", a, path, null);
          assertEquals(403, r.status(), r.body());
          assertEquals("Error", JsonParser.parseString(r.body()).getAsJsonObject().get("result").getAsString());
          assertFalse(r.body().contains("v1"), r.body());
          assertEquals(200, member.call("GET", a, path, null).status(), "a member's address");
          assertEquals(200, Client.send("GET", a, path).status(), "loopback");
        }
        // the state streams, whole and well-formed
        JsonObject state = JsonParser.parseString(member.call("GET", a, "/admin/state", null).body()).getAsJsonObject();
        assertEquals(300, state.getAsJsonObject("keys").size());
        assertEquals("v7", state.getAsJsonObject("keys").getAsJsonObject("k7").get("visible").getAsString());
        assertEquals(c.node(a).core().origin(), state.get("origin").getAsString());
      } finally {
        stranger.close();
        member.close();
      }
    }
    try (TestCluster c = TestCluster.startOn(List.of("127.0.0.2"), Map.of("ADMIN_FROM", "127.0.0.8/31"))) {
      FromAddress stranger = new FromAddress(STRANGER);
      try {
        assertEquals(200, stranger.call("GET", c.id(0), "/admin/stats", null).status(), "ADMIN_FROM lets it in");
      } finally {
        stranger.close();
      }
    }
  }

  @Test
  void withATokenViewChangesAndAdminNeedIt() {
    try (TestCluster c = TestCluster.start(2, Map.of("CLUSTER_TOKEN", "s3cret"))) {
      String a = c.id(0), b = c.id(1);
      Client w = new Client();
      assertEquals("v", replicate(w, a, b, "t", "v"));
      String d = TestCluster.newId();
      FromAddress local = new FromAddress("127.0.0.1");
      try {
        assertEquals(401, local.call("PUT", a, "/view?ip_port=" + d, "").status());
        assertEquals(401, local.call("DELETE", a, "/view?ip_port=" + b, "").status());
        assertEquals(401, local.call("GET", a, "/admin/stats", null).status(), "loopback is not enough with a token");
        assertEquals(200, local.call("GET", a, "/view", null).status(), "reading the view stays open");
        assertEquals(200, local.call("PUT", a, "/view?ip_port=" + d, "", Map.of("X-Cluster-Token", "s3cret")).status());
        assertEquals(200, local.call("GET", a, "/admin/stats", null, Map.of("X-Cluster-Token", "s3cret")).status());
      } finally {
        local.close();
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  /** Writes at {@code from}, reads at {@code to} with the write's payload; returns the value read. */
  private static String replicate(Client w, String from, String to, String key, String value) {
    Reply p = w.put(from, key, value);
    assertTrue(p.status() == 200 || p.status() == 201, p.raw());
    Reply r = w.get(to, key);
    assertEquals(200, r.status(), r.raw());
    return r.json().get("value").getAsString();
  }

  /** A token body as documented in wire/PayloadToken: version, key id (version 2), entries. */
  static byte[] body(int version, byte[] keyId, Map<String, Long> vc) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(version);
    if (keyId != null) out.write(keyId, 0, keyId.length);
    varint(out, vc.size());
    for (Map.Entry<String, Long> e : new TreeMap<>(vc).entrySet()) {
      byte[] o = e.getKey().getBytes(StandardCharsets.UTF_8);
      varint(out, o.length);
      out.write(o, 0, o.length);
      varint(out, e.getValue());
    }
    return out.toByteArray();
  }

  static String token(byte[] body, byte[] key) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    return b64.encodeToString(body) + "." + b64.encodeToString(Arrays.copyOf(SealKey.hmac(key, body), 16));
  }

  /** The first nodes' object form, sealed as they sealed it (origin\0counter\n per entry) with the public key. */
  static String objectForm(Map<String, Long> vc) {
    StringBuilder text = new StringBuilder();
    for (Map.Entry<String, Long> e : new TreeMap<>(vc).entrySet()) text.append(e.getKey()).append('\0').append(e.getValue()).append('\n');
    String sig = java.util.HexFormat.of().formatHex(SealKey.hmac(OLD_PUBLIC_KEY, text.toString().getBytes(StandardCharsets.UTF_8)), 0, 16);
    JsonObject o = new JsonObject();
    JsonObject v = new JsonObject();
    vc.forEach(v::addProperty);
    o.add("vc", v);
    o.addProperty("sig", sig);
    return o.toString();
  }

  private static void varint(ByteArrayOutputStream out, long v) {
    while ((v & ~0x7FL) != 0) {
      out.write((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }
}
