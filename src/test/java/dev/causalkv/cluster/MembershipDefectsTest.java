package dev.causalkv.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.causalkv.cluster.Client.Reply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The membership defects of the protocol restructuring, each over real HTTP on in-process nodes
 * (the same scenarios run by hand in protocol/MembershipTest and at random in the simulation).
 */
class MembershipDefectsTest {

  static Set<String> viewOf(String node) {
    return Set.of(Client.send("GET", node, "/view").json().get("view").getAsString().split(","));
  }

  static JsonObject state(String node) {
    return JsonParser.parseString(Client.send("GET", node, "/admin/state").raw()).getAsJsonObject();
  }

  static boolean holds(String node, String key) {
    return state(node).getAsJsonObject("keys").has(key);
  }

  @Test
  void aReAddedNodeDoesNotBringBackAKeyDeletedAndCollectedWhileItWasAway() {
    try (TestCluster c = TestCluster.start(3)) {
      String a = c.id(0), b = c.id(1), n = c.id(2);
      Client x = new Client();
      assertEquals(200, x.put(a, "k", "v").status());
      await().atMost(Duration.ofSeconds(5)).until(() -> holds(n, "k"));
      c.partition(List.of(n), List.of(a, b));
      assertEquals(200, Client.send("DELETE", a, "/view", "ip_port", n).status());
      assertEquals(200, x.delete(a, "k").status());
      await().atMost(Duration.ofSeconds(10)).until(() -> !holds(a, "k") && !holds(b, "k")); // tombstone collected
      assertTrue(holds(n, "k"), "N, cut off, still holds k=v");
      c.heal();
      assertEquals(200, Client.send("PUT", a, "/view", "ip_port", n).status());
      await().atMost(Duration.ofSeconds(10)).until(() -> !holds(n, "k"));
      await().atMost(Duration.ofSeconds(5)).until(() -> new Client().get(n, "k").status() == 404);
      for (String id : List.of(a, b, n)) assertEquals(404, new Client().get(id, "k").status(), id);
      assertEquals(Set.of(a, b, n), viewOf(n));
    }
  }

  @Test
  void deleteViewSentToTheLeavingNodeHandsItsWritesToAMemberFirst() {
    try (TestCluster c = TestCluster.start(3)) {
      String a = c.id(0), b = c.id(1), n = c.id(2);
      c.partition(List.of(n), List.of(a, b));
      Client x = new Client();
      assertEquals(200, x.put(n, "onN", "written-while-cut-off").status());
      c.heal();
      Reply r = Client.send("DELETE", n, "/view", "ip_port", n);
      assertEquals(200, r.status(), r.raw());
      assertEquals("Successfully removed " + n + " from view", r.msg());
      Reply got = x.get(a, "onN");
      assertEquals(200, got.status(), "served at once, not 'Payload out of date': " + got.raw());
      assertEquals(Set.of(a, b), viewOf(a));
      assertEquals(Set.of(n), viewOf(n));
    }
  }

  @Test
  void removingANodeThatIsDownWhileItHoldsWritesNobodyHasWarnsWhatMayBeLost() {
    try (TestCluster c = TestCluster.start(3)) {
      String a = c.id(0), b = c.id(1), n = c.id(2);
      c.partition(List.of(n), List.of(a, b));
      assertEquals(200, new Client().put(n, "only", "here").status());
      c.kill(n);
      Reply r = Client.send("DELETE", a, "/view", "ip_port", n);
      assertEquals(200, r.status(), r.raw());
      assertTrue(r.json().has("warning"), "the caller is told what may be lost: " + r.raw());
      assertTrue(r.json().get("warning").getAsString().contains(n), r.raw());
      assertEquals(Set.of(a, b), viewOf(b));
    }
  }

  @Test
  void concurrentViewChangesSentToTwoNodesConvergeToOneViewEverywhere() {
    try (TestCluster c = TestCluster.start(3)) {
      String a = c.id(0), b = c.id(1), gone = c.id(2);
      String d = TestCluster.newId(), e = TestCluster.newId();
      c.startNode(d, List.of(a, b, gone, d));
      c.startNode(e, List.of(a, b, gone, e));
      List<CompletableFuture<Reply>> calls = new ArrayList<>();
      calls.add(Client.sendAsync("PUT", a, "/view", "ip_port", d));
      calls.add(Client.sendAsync("PUT", b, "/view", "ip_port", e));
      calls.add(Client.sendAsync("DELETE", b, "/view", "ip_port", gone));
      for (CompletableFuture<Reply> f : calls) assertEquals(200, f.join().status(), f.join().raw());
      Set<String> expected = Set.of(a, b, d, e);
      await().atMost(Duration.ofSeconds(10)).until(() -> {
        for (String id : expected) if (!viewOf(id).equals(expected)) return false;
        return true;
      });
      assertEquals(Set.of(gone), viewOf(gone));
    }
  }

  @Test
  void aTypoInAJoinersViewAddsNoGhostMember() {
    try (TestCluster c = TestCluster.start(2)) {
      String a = c.id(0), b = c.id(1);
      String d = TestCluster.newId();
      c.startNode(d, List.of(a, b, d, "10.255.255.1:9")); // a typo'd member only D lists
      assertEquals(200, Client.send("PUT", a, "/view", "ip_port", d).status());
      await().atMost(Duration.ofSeconds(5)).until(() -> viewOf(b).equals(Set.of(a, b, d)));
      Client.send("GET", b, "/view"); // and after some pulls it still holds
      await().pollDelay(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> viewOf(a).equals(Set.of(a, b, d)));
    }
  }

  @Test
  void overloadShedsWithAJson503AndTheNodeRecoversByItself() {
    try (TestCluster c = TestCluster.start(2, Map.of("MAX_WAITING_READS", "5", "CAUSAL_WAIT_MS", "10000"))) {
      String a = c.id(0), b = c.id(1);
      c.partition(List.of(a), List.of(b));
      Client x = new Client();
      assertEquals(200, x.put(a, "k", "v").status());
      List<CompletableFuture<Reply>> reads = new ArrayList<>();
      for (int i = 0; i < 12; i++) reads.add(Client.sendAsync("GET", b, "/keyValue-store/k", "payload", x.payload));
      await().atMost(Duration.ofSeconds(5)).until(() -> reads.stream().filter(f -> f.isDone() && f.join().status() == 503).count() == 7);
      for (CompletableFuture<Reply> f : reads) {
        if (f.isDone()) assertTrue(f.join().msg().contains("overloaded"), f.join().raw());
      }
      c.heal();
      await().atMost(Duration.ofSeconds(5)).until(() -> reads.stream().allMatch(CompletableFuture::isDone));
      assertEquals(5, reads.stream().filter(f -> f.join().status() == 200).count(), "the parked reads were woken");
      assertEquals(200, x.get(b, "k").status(), "and the node serves normally again");
    }
  }
}
