package dev.causalkv.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.causalkv.cli.KvCommand;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The {@code kv} command line against a real 3-node cluster: sessions carry their payload through causal chains. */
@Timeout(120)
class KvCliTest {

  @TempDir Path home;

  /** One run of kv: exit status, standard output, standard error. */
  record Run(int rc, String out, String err) {
    Run ok() {
      assertEquals(0, rc, this::toString);
      return this;
    }

    Run rc(int expected) {
      assertEquals(expected, rc, this::toString);
      return this;
    }
  }

  Run kv(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    Map<String, String> env = new HashMap<>();
    env.put("KV_SESSIONS_DIR", home.resolve("sessions").toString());
    env.put("HOME", home.toString());
    int rc = KvCommand.run(args, new PrintWriter(out), new PrintWriter(err), env);
    return new Run(rc, out.toString(), err.toString());
  }

  @Test
  void aSessionCarriesItsPayloadThroughACausalChainAcrossNodes() {
    try (TestCluster c = TestCluster.start(3, Map.of("CAUSAL_WAIT_MS", "300"))) {
      String n1 = c.id(0), n2 = c.id(1), n3 = c.id(2);
      String all = String.join(",", c.ids());
      assertEquals("added x\n", kv("-n", n1, "-s", "setup", "put", "x", "old").ok().out());
      await().atMost(Duration.ofSeconds(20)).until(() -> kv("-n", n3, "--no-session", "get", "x").out().equals("old\n"));

      c.partition(List.of(n3), List.of(n1, n2));
      // alice updates x at n1, reads it at n2 (which waits for it if it must), then writes y there: y follows x
      assertEquals("updated x\n", kv("-n", n1, "-s", "alice", "put", "x", "new").ok().out());
      assertEquals("new\n", kv("-n", n2, "-s", "alice", "get", "x").ok().out());
      kv("-n", n2, "-s", "alice", "put", "y", "written after reading x=new").ok();
      // carol reads y at n2, so she has seen x=new too, through alice
      assertEquals("written after reading x=new\n", kv("-n", n2, "-s", "carol", "get", "y").ok().out());
      // n3 is cut off and still holds x=old: it must not show it to carol
      Run stale = kv("-n", n3, "-s", "carol", "get", "x").rc(3);
      assertTrue(stale.err().contains("Payload out of date"), stale.err());
      assertTrue(stale.err().contains("--retry-other"), "says what to do: " + stale.err());
      assertEquals("old\n", kv("-n", n3, "--no-session", "get", "x").ok().out(), "a client with no history may see it");
      // --retry-other goes on to a node that can serve her
      Run retried = kv("-n", n3, "--nodes", all, "-s", "carol", "--retry-other", "get", "x").ok();
      assertEquals("new\n", retried.out());
      assertTrue(retried.err().contains("Payload out of date; trying"), retried.err());
      // without --nodes, the other nodes come from the view of --node
      assertEquals("new\n", kv("-n", n3, "-s", "carol", "--retry-other", "get", "x").ok().out());
      // search and delete carry the payload too
      assertEquals(3, kv("-n", n3, "-s", "carol", "search", "y").rc());
      c.heal();
      await().atMost(Duration.ofSeconds(20)).until(() -> kv("-n", n3, "-s", "carol", "get", "x").rc() == 0);
      assertEquals("new\n", kv("-n", n3, "-s", "carol", "get", "x").out());
      assertEquals("y exists\n", kv("-n", n3, "-s", "carol", "search", "y").ok().out());
      assertEquals("deleted y\n", kv("-n", n3, "-s", "carol", "del", "y").ok().out());
      kv("-n", n1, "-s", "carol", "get", "y").rc(1);
      assertEquals("y does not exist\n", kv("-n", n2, "-s", "carol", "search", "y").rc(1).out());
      kv("-n", n2, "-s", "carol", "del", "y").rc(1);

      // the session is a file holding the last payload
      assertTrue(Files.exists(home.resolve("sessions/carol")));
      assertEquals(List.of("alice", "carol", "setup"), List.of(kv("session", "list").ok().out().split("\n")));
      String shown = kv("-s", "carol", "session", "show").ok().out().trim();
      assertFalse(shown.isEmpty());
      assertEquals("forgot session carol\n", kv("session", "forget", "carol").ok().out());
      kv("session", "show", "carol").rc(1);
    }
  }

  @Test
  void mergedSessionsHaveSeenWhatBothHaveSeen() {
    try (TestCluster c = TestCluster.start(2, Map.of("CAUSAL_WAIT_MS", "300"))) {
      String a = c.id(0), b = c.id(1);
      c.partition(List.of(a), List.of(b));
      kv("-n", a, "-s", "alice", "put", "from-a", "1").ok();
      kv("-n", b, "-s", "bob", "put", "from-b", "2").ok();
      Run m = kv("-n", a, "merge", "alice", "bob", "--into", "team").ok();
      assertTrue(m.out().contains("session team now carries what alice and bob have seen"), m.out());
      kv("-n", a, "-s", "team", "get", "from-b").rc(3);
      kv("-n", b, "-s", "team", "get", "from-a").rc(3);
      c.heal();
      await().atMost(Duration.ofSeconds(20)).until(() -> kv("-n", a, "-s", "team", "get", "from-b").rc() == 0);
      assertEquals("1\n", kv("-n", b, "-s", "team", "get", "from-a").ok().out());
      kv("merge", "alice", "nobody").rc(2);
    }
  }

  @Test
  void statusShowsEveryNodeSideBySide() {
    try (TestCluster c = TestCluster.start(3, Map.of("CAUSAL_WAIT_MS", "300"))) {
      String n1 = c.id(0), n3 = c.id(2);
      String all = String.join(",", c.ids());
      kv("-n", n1, "put", "k", "v").ok();
      await().atMost(Duration.ofSeconds(20)).until(() -> kv("--nodes", all, "status").rc() == 0);
      Run s = kv("-n", n1, "status").ok(); // the nodes come from n1's view
      for (String id : c.ids()) assertTrue(s.out().contains(id), s.out());
      assertTrue(s.out().contains("digests: equal on 3 nodes"), s.out());
      assertTrue(s.out().contains("views: equal"), s.out());
      assertTrue(s.out().contains("2/2"), "peers up: " + s.out());

      c.partition(List.of(n3), List.of(c.id(0), c.id(1)));
      kv("-n", n1, "put", "k", "changed").ok();
      await().atMost(Duration.ofSeconds(20)).until(() -> kv("--nodes", all, "status").out().contains("down"));
      Run split = kv("--nodes", all, "status").rc(1);
      assertTrue(split.out().contains("2 different values"), split.out());
      JsonObject js = JsonParser.parseString(kv("--nodes", all, "--json", "status").rc(1).out()).getAsJsonObject();
      assertFalse(js.get("converged").getAsBoolean());
      assertEquals(3, js.getAsJsonArray("nodes").size());
      c.heal();
      await().atMost(Duration.ofSeconds(20)).until(() -> kv("--nodes", all, "status").rc() == 0);

      c.kill(n3);
      Run down = kv("--nodes", all, "status").rc(1);
      assertTrue(down.out().contains("DOWN"), down.out());
      assertTrue(down.out().contains("not every node answered"), down.out());
    }
  }

  @Test
  void statusSendsTheClusterTokenToAdminEndpoints() {
    try (TestCluster c = TestCluster.start(2, Map.of("CLUSTER_TOKEN", "s3cret"))) {
      String all = String.join(",", c.ids());
      assertTrue(kv("--nodes", all, "status").rc(1).out().contains("answered 401"));
      await().atMost(Duration.ofSeconds(20)).until(() -> kv("--nodes", all, "--token", "s3cret", "status").rc() == 0);
      kv("-n", c.id(0), "put", "k", "v").ok(); // the key-value API needs no token
    }
  }

  @Test
  void viewCommandsListAddAndRemoveMembers() {
    try (TestCluster c = TestCluster.start(2)) {
      String a = c.id(0), b = c.id(1);
      List<String> listed = List.of(kv("-n", a, "view").ok().out().split("\n"));
      assertEquals(2, listed.size());
      assertTrue(listed.containsAll(c.ids()));
      String n = TestCluster.newId();
      List<String> view = new ArrayList<>(c.ids());
      view.add(n);
      c.startNode(n, view);
      assertEquals("Successfully added " + n + " to view\n", kv("-n", a, "view", "add", n).ok().out());
      assertTrue(kv("-n", a, "view", "add", n).rc(1).err().contains("is already in view"));
      await().atMost(Duration.ofSeconds(10)).until(() -> kv("-n", b, "view").out().contains(n));
      assertEquals("Successfully removed " + n + " from view\n", kv("-n", a, "view", "remove", n).ok().out());
      assertTrue(kv("-n", a, "view", "remove", n).rc(1).err().contains("is not in current view"));
      kv("-n", a, "view", "frobnicate", n).rc(2);
      JsonObject raw = JsonParser.parseString(kv("-n", a, "--json", "view").ok().out()).getAsJsonObject();
      assertEquals(2, raw.get("view").getAsString().split(",").length);
    }
  }

  @Test
  void siblingsJsonHeaderAndStdin() throws Exception {
    try (TestCluster c = TestCluster.start(2, Map.of("CAUSAL_WAIT_MS", "300"))) {
      String a = c.id(0), b = c.id(1);
      c.partition(List.of(a), List.of(b));
      kv("-n", a, "--no-session", "put", "color", "red").ok();
      Thread.sleep(5);
      kv("-n", b, "--no-session", "put", "color", "blue").ok();
      // the payload in the header instead of the body: still carried, still enforced
      kv("-n", a, "-s", "h", "--header", "put", "hk", "hv").ok();
      assertTrue(kv("-n", b, "-s", "h", "--header", "get", "hk").rc(3).err().contains("Payload out of date"));
      c.heal();
      await().atMost(Duration.ofSeconds(20)).until(() -> kv("-n", a, "siblings", "color").out().contains("2 sibling(s)"));
      Run s = kv("-n", a, "siblings", "color").ok();
      String[] lines = s.out().split("\n");
      assertTrue(lines[2].startsWith("*") && lines[2].contains("blue"), s.out());
      assertTrue(lines[3].contains("red") && lines[3].contains("older"), s.out());
      assertTrue(s.out().contains("(ts, origin, seq)"), s.out());
      kv("-n", a, "siblings", "never-written").rc(1);
      JsonObject j = JsonParser.parseString(kv("-n", a, "--json", "siblings", "color").ok().out()).getAsJsonObject();
      assertEquals(2, j.getAsJsonArray("siblings").size());

      JsonObject got = JsonParser.parseString(kv("-n", a, "--json", "get", "color").ok().out()).getAsJsonObject();
      assertEquals("blue", got.get("value").getAsString());
      assertEquals("Key does not exist", JsonParser.parseString(kv("-n", a, "--json", "get", "nope").rc(1).out())
          .getAsJsonObject().get("msg").getAsString());

      InputStream stdin = System.in;
      try {
        System.setIn(new ByteArrayInputStream("line one\nline two\n".getBytes(StandardCharsets.UTF_8)));
        kv("-n", a, "put", "doc").ok();
      } finally {
        System.setIn(stdin);
      }
      assertEquals("line one\nline two\n\n", kv("-n", a, "get", "doc").ok().out());
      kv("-n", a, "put", "key with spaces/and/slashes", "v").ok();
      assertEquals("v\n", kv("-n", a, "get", "key with spaces/and/slashes").ok().out());
    }
  }

  @Test
  void failuresSayWhetherAWriteMayHaveHappened() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    Run refused = kv("-n", "127.0.0.1:" + closed, "put", "k", "v").rc(4);
    assertTrue(refused.err().contains("could not connect (nothing was sent)"), refused.err());
    // a node that takes the request and never answers: the write may have happened
    try (ServerSocket silent = new ServerSocket(0)) {
      List<Socket> held = new ArrayList<>();
      Thread t = new Thread(() -> {
        try {
          while (true) held.add(silent.accept());
        } catch (Exception done) {
          // closed
        }
      });
      t.setDaemon(true);
      t.start();
      Run hung = kv("-n", "127.0.0.1:" + silent.getLocalPort(), "--timeout", "1", "put", "k", "v").rc(4);
      assertTrue(hung.err().contains("the write may or may not have been applied"), hung.err());
      for (Socket s : held) s.close();
    }
    try (TestCluster c = TestCluster.start(1)) {
      String a = c.id(0);
      // a payload edited by hand is refused, and kv says how to start afresh
      Files.createDirectories(home.resolve("sessions"));
      Files.writeString(home.resolve("sessions/broken"), "{\"vc\":{\"x\":1},\"sig\":\"00\"}\n");
      Run bad = kv("-n", a, "-s", "broken", "get", "k").rc(3);
      assertTrue(bad.err().contains("Payload is not valid") && bad.err().contains("kv session forget broken"), bad.err());
      // usage errors
      kv().rc(2);
      assertTrue(kv("get").rc(2).err().contains("Missing required parameter"));
      kv("-s", "../etc", "-n", a, "get", "k").rc(2);
      assertTrue(kv("--version").ok().out().startsWith("causalkv "));
      assertTrue(kv("--help").ok().out().contains("Exit status"));
    }
  }
}
