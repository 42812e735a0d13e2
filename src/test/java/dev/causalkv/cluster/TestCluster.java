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
    TestCluster c = new TestCluster();
    c.extraEnv.putAll(env);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) ids.add("127.0.0.1:" + freePort());
    for (String id : ids) c.startNode(id, ids);
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
    env.put("PORT", id.substring(id.indexOf(':') + 1));
    env.put("BIND", "127.0.0.1");
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
