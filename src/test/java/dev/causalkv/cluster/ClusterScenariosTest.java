package dev.causalkv.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.causalkv.cluster.Client.Reply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The course-style scenarios over real HTTP, each on a fresh cluster of in-process nodes. */
@Timeout(60)
class ClusterScenariosTest {

  private static Set<String> viewOf(String node) {
    Reply r = Client.send("GET", node, "/view");
    assertEquals(200, r.status());
    return new HashSet<>(Arrays.asList(r.json().get("view").getAsString().split(",")));
  }

  @Test
  void addUpdateGetSearchDeleteOnOneNode() {
    try (TestCluster c = TestCluster.start(1)) {
      String a = c.id(0);
      Client x = new Client();
      Reply r = x.put(a, "k1", "v1");
      assertEquals(200, r.status());
      assertFalse(r.json().get("replaced").getAsBoolean());
      assertTrue(r.json().get("replaced").getAsJsonPrimitive().isBoolean());
      assertEquals("Added successfully", r.msg());
      assertTrue(r.json().get("payload").getAsJsonPrimitive().isString(), "the payload is a token string: " + r.raw());

      r = x.put(a, "k1", "v2");
      assertEquals(201, r.status());
      assertTrue(r.json().get("replaced").getAsBoolean());
      assertEquals("Updated successfully", r.msg());

      r = x.get(a, "k1");
      assertEquals(200, r.status());
      assertEquals("Success", r.json().get("result").getAsString());
      assertEquals("v2", r.json().get("value").getAsString());

      r = x.search(a, "k1");
      assertEquals(200, r.status());
      assertTrue(r.json().get("isExists").getAsBoolean());

      r = x.delete(a, "k1");
      assertEquals(200, r.status());
      assertEquals("Key deleted", r.msg());
      assertEquals("Success", r.json().get("result").getAsString());

      r = x.get(a, "k1");
      assertEquals(404, r.status());
      assertEquals("Key does not exist", r.msg());
      assertEquals("Error", r.json().get("result").getAsString());
      assertTrue(r.json().get("payload").getAsJsonPrimitive().isString(), "the payload is a token string: " + r.raw());

      r = x.delete(a, "k1");
      assertEquals(404, r.status());
      assertEquals("Key does not exist", r.msg());

      r = x.search(a, "nothing-here");
      assertEquals(200, r.status());
      assertFalse(r.json().get("isExists").getAsBoolean());
      assertEquals("Success", r.json().get("result").getAsString());

      r = new Client().get(a, "never");
      assertEquals(404, r.status());

      // re-adding a deleted key is an add again
      r = x.put(a, "k1", "v3");
      assertEquals(200, r.status());
      assertFalse(r.json().get("replaced").getAsBoolean());
    }
  }

  @Test
  void writeOnOneNodeIsReadOnAnotherWithAndWithoutPayload() {
    try (TestCluster c = TestCluster.start(2)) {
      String a = c.id(0), b = c.id(1);
      Client x = new Client();
      assertEquals(200, x.put(a, "color", "red").status());
      // with the write's payload the read on b waits for replication, it does not fail
      Reply r = x.get(b, "color");
      assertEquals(200, r.status(), r.raw());
      assertEquals("red", r.json().get("value").getAsString());
      // without any payload the value arrives within moments
      await().atMost(Duration.ofSeconds(5)).until(() -> {
        Reply y = new Client().get(b, "color");
        return y.status() == 200 && y.json().get("value").getAsString().equals("red");
      });
      // a delete on a is seen on b
      assertEquals(200, x.delete(a, "color").status());
      assertEquals(404, x.get(b, "color").status());
      await().atMost(Duration.ofSeconds(5)).until(() -> new Client().get(b, "color").status() == 404);
      assertFalse(new Client().search(b, "color").json().get("isExists").getAsBoolean());
    }
  }

  @Test
  void viewIsTheCommaSeparatedMemberList() {
    try (TestCluster c = TestCluster.start(3)) {
      for (String n : c.ids()) assertEquals(new HashSet<>(c.ids()), viewOf(n));
    }
  }

  @Test
  void addedNodeIsVisibleEverywhereAndCatchesUp() {
    try (TestCluster c = TestCluster.start(2)) {
      String a = c.id(0), b = c.id(1);
      Client x = new Client();
      for (int i = 0; i < 20; i++) assertEquals(200, x.put(a, "old" + i, "v" + i).status());

      String n = TestCluster.newId();
      List<String> view = new ArrayList<>(c.ids());
      view.add(n);
      c.startNode(n, view);
      Reply r = Client.send("PUT", a, "/view", "ip_port", n);
      assertEquals(200, r.status(), r.raw());
      assertEquals("Success", r.json().get("result").getAsString());
      assertEquals("Successfully added " + n + " to view", r.msg());
      Set<String> expected = new HashSet<>(view);
      for (String node : List.of(a, b, n)) assertEquals(expected, viewOf(node), "view on " + node);

      // the new node serves keys written before it joined (the payload makes it wait, not fail)
      for (int i = 0; i < 20; i++) {
        Reply g = x.get(n, "old" + i);
        assertEquals(200, g.status(), g.raw());
        assertEquals("v" + i, g.json().get("value").getAsString());
      }
      // it receives new writes and its own writes reach the others
      assertEquals(200, x.put(b, "later", "L").status());
      assertEquals("L", x.get(n, "later").json().get("value").getAsString());
      assertEquals(200, x.put(n, "fromNew", "N").status());
      assertEquals("N", x.get(a, "fromNew").json().get("value").getAsString());
      assertEquals("N", x.get(b, "fromNew").json().get("value").getAsString());

      r = Client.send("PUT", b, "/view", "ip_port", n);
      assertEquals(404, r.status());
      assertEquals(n + " is already in view", r.msg());
      assertEquals("Error", r.json().get("result").getAsString());
      String absent = TestCluster.newId();
      r = Client.send("DELETE", b, "/view", "ip_port", absent);
      assertEquals(404, r.status());
      assertEquals(absent + " is not in current view", r.msg());
    }
  }

  @Test
  void removedNodeIsDrainedThenServesReadsAloneAndRefusesWrites() {
    try (TestCluster c = TestCluster.start(3)) {
      String n = c.id(0), s = c.id(1), t = c.id(2);
      Client x = new Client();
      assertEquals(200, x.put(n, "fromN", "written-on-N").status());
      Reply r = Client.send("DELETE", s, "/view", "ip_port", n);
      assertEquals(200, r.status(), r.raw());
      assertEquals("Successfully removed " + n + " from view", r.msg());
      // S serves the key at once with the client's payload
      Reply g = x.get(s, "fromN");
      assertEquals(200, g.status(), g.raw());
      assertEquals("written-on-N", g.json().get("value").getAsString());
      assertEquals(Set.of(s, t), viewOf(s));
      assertEquals(Set.of(s, t), viewOf(t));
      assertEquals(Set.of(n), viewOf(n));

      // after removal N receives no new writes; a client that saw one gets "out of date" there, not an older state
      Client y = new Client();
      assertEquals(200, y.put(s, "afterRemoval", "x").status());
      assertEquals(200, y.get(t, "afterRemoval").status());
      Reply sr = y.search(n, "afterRemoval");
      assertEquals(400, sr.status(), sr.raw());
      assertEquals("Payload out of date", sr.msg());
      await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
          .until(() -> !new Client().search(n, "afterRemoval").json().get("isExists").getAsBoolean());
      // and it takes no writes: they would never reach the members
      Reply w = new Client().put(n, "standalone", "s");
      assertEquals(503, w.status(), w.raw());
      assertTrue(w.msg().contains("removed from the view"), w.raw());
      assertEquals(404, new Client().get(s, "standalone").status());
    }
  }

  @Test
  void killedNodeLeavesTheOthersServingEverything() {
    try (TestCluster c = TestCluster.start(3)) {
      String a = c.id(0), b = c.id(1);
      Client x = new Client();
      for (int i = 0; i < 30; i++) x.put(a, "k" + i, "v" + i);
      for (int i = 0; i < 30; i++) assertEquals("v" + i, x.get(b, "k" + i).json().get("value").getAsString());
      c.kill(a);
      for (int i = 0; i < 30; i++) {
        Reply r = x.get(b, "k" + i);
        assertEquals(200, r.status());
        assertEquals("v" + i, r.json().get("value").getAsString());
      }
      assertEquals(201, x.put(b, "k0", "after-crash").status());
      assertEquals("after-crash", x.get(c.id(1), "k0").json().get("value").getAsString());
    }
  }

  @Test
  void causalChainAcrossNodesNeverShowsTheOlderValue() {
    try (TestCluster c = TestCluster.start(3)) {
      String a = c.id(0), b = c.id(1);
      Client x = new Client(), y = new Client();
      assertEquals(200, x.put(a, "K", "0").status());
      assertEquals("0", x.get(a, "K").json().get("value").getAsString());
      // a read with x's payload waits until B has K=0, so the next write at B replaces it (201)
      assertEquals("0", x.get(b, "K").json().get("value").getAsString());
      assertEquals(201, x.put(b, "K", "1").status());
      Reply yr = y.get(b, "K");
      assertEquals("1", yr.json().get("value").getAsString());
      assertEquals(200, y.put(b, "L", "from-y").status());
      assertEquals("from-y", x.get(b, "L").json().get("value").getAsString());
      Reply k = x.get(a, "K");
      assertEquals(200, k.status(), k.raw());
      assertEquals("1", k.json().get("value").getAsString());
    }
  }

  @Test
  void causalChainUnderPartitionIsAvailableAndNeverStale() {
    try (TestCluster c = TestCluster.start(2, java.util.Map.of("CAUSAL_WAIT_MS", "500"))) {
      String a = c.id(0), b = c.id(1);
      Client x = new Client(), y = new Client();
      assertEquals(200, x.put(a, "K", "0").status());
      assertEquals("0", x.get(a, "K").json().get("value").getAsString());
      assertEquals("0", x.get(b, "K").json().get("value").getAsString()); // replicated before the cut
      c.partition(List.of(a), List.of(b));

      Reply w = x.put(b, "K", "1");
      assertEquals(201, w.status(), w.raw()); // B already held K=0, so the write updates it
      Reply yr = y.get(b, "K");
      assertEquals("1", yr.json().get("value").getAsString());
      Reply l = y.put(b, "L", "from-y");
      assertEquals(200, l.status());
      assertEquals("Added successfully", l.msg());
      Reply xl = x.get(b, "L");
      assertEquals(200, xl.status(), xl.raw());

      // A cannot know K=1: it must not answer 0; it waits, then says the payload is out of date
      Reply k = x.get(a, "K");
      assertNotEquals("0", k.json().has("value") ? k.json().get("value").getAsString() : null);
      assertEquals(400, k.status(), k.raw());
      assertEquals("Payload out of date", k.msg());
      // the 400 payload is never smaller than the client's: retrying with it still refuses 0
      Reply again = x.get(a, "K");
      assertEquals(400, again.status());

      c.heal();
      Reply healed = x.get(a, "K");
      assertEquals(200, healed.status(), healed.raw());
      assertEquals("1", healed.json().get("value").getAsString());
      assertEquals("from-y", x.get(a, "L").json().get("value").getAsString());
    }
  }
}
