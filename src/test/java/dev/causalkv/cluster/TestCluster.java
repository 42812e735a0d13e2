package dev.causalkv.cluster;

import dev.causalkv.node.Config;
import dev.causalkv.node.Node;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Real nodes on loopback ports in this JVM, each a full HTTP server, with partitions by fault injection. */
final class TestCluster implements AutoCloseable {

  private final Map<String, Node> nodes = new LinkedHashMap<>();
  private final Map<String, String> extraEnv = new HashMap<>();

  static TestCluster start(int n) {
    return start(n, Map.of());
  }

  static TestCluster start(int n, Map<String, String> env) {
    return startOn(java.util.Collections.nCopies(n, "127.0.0.1"), env);
  }

  /**
   * One node per host (loopback addresses such as 127.0.0.2, 127.0.0.3: distinct sources for the
   * source-address checks), each bound to its host, so its peer calls leave from it too.
   */
  static TestCluster startOn(List<String> hosts, Map<String, String> env) {
    TestCluster c = new TestCluster();
    c.extraEnv.putAll(env);
    List<String> ids = new ArrayList<>();
    for (String h : hosts) ids.add(h + ":" + freePort());
    for (String id : ids) c.startNode(id, ids);
    c.awaitKeysExchanged();
    return c;
  }

  /**
   * Waits (bounded) until every node has learnt every other node's payload seal key, which comes
   * with its first pull answer: a node that has never pulled from a peer makes a client carrying
   * that peer's payload wait for the key, and tests that partition at once mean to test the
   * protocol's waits, not that one. A cluster with a token shares one key: nothing to wait for.
   */
  void awaitKeysExchanged() {
    long deadline = System.nanoTime() + 10_000_000_000L;
    for (Node n : nodes.values()) {
      while (!n.payloads().keyring().isShared() && n.payloads().keyring().size() < nodes.size() && System.nanoTime() < deadline) {
        try {
          Thread.sleep(5);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /** A cluster with no node yet: start them one by one with {@link #startNode}. */
  static TestCluster empty(Map<String, String> env) {
    TestCluster c = new TestCluster();
    c.extraEnv.putAll(env);
    return c;
  }

  /** Starts one node with the given view (it adds itself if missing), as a new container would. */
  Node startNode(String id, List<String> view) {
    return startNode(id, view, Map.of());
  }

  Node startNode(String id, List<String> view, Map<String, String> nodeEnv) {
    Map<String, String> env = new HashMap<>(extraEnv);
    env.putAll(nodeEnv);
    env.put("IP_PORT", id);
    env.put("VIEW", String.join(",", view));
    env.putIfAbsent("PORT", id.substring(id.indexOf(':') + 1));
    env.putIfAbsent("BIND", id.substring(0, id.indexOf(':')));
    env.putIfAbsent("DATA_DIR", ":memory:");
    env.putIfAbsent("PULL_HOLD_MS", "5000");
    Node node = Node.create(Config.fromEnv(env)).start();
    nodes.put(id, node);
    return node;
  }

  /** A fresh node id on a free port, not yet started. */
  static String newId() {
    return "127.0.0.1:" + freePort();
  }

  List<String> ids() {
    return new ArrayList<>(nodes.keySet());
  }

  String id(int i) {
    return ids().get(i);
  }

  Node node(String id) {
    return nodes.get(id);
  }

  /** Abrupt stop: the server and pullers go away at once, as on a crash. */
  void kill(String id) {
    Node n = nodes.remove(id);
    if (n != null) n.close();
  }

  /** Cuts every link between the two sides, both directions; nodes on neither side are untouched. */
  void partition(List<String> sideA, List<String> sideB) {
    for (String a : sideA) block(a, sideB);
    for (String b : sideB) block(b, sideA);
  }

  private void block(String id, List<String> peers) {
    Node n = nodes.get(id);
    Set<String> now = new java.util.HashSet<>(blocked.getOrDefault(id, Set.of()));
    now.addAll(peers);
    blocked.put(id, now);
    n.transport().setUnreachable(now);
  }

  private final Map<String, Set<String>> blocked = new HashMap<>();

  void heal() {
    for (Map.Entry<String, Node> e : nodes.entrySet()) e.getValue().transport().setUnreachable(Set.of());
    blocked.clear();
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    for (Node n : nodes.values()) {
      try {
        n.close();
      } catch (RuntimeException ignored) {
        // closing the rest matters more
      }
    }
    nodes.clear();
  }
}
