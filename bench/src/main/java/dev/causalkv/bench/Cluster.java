package dev.causalkv.bench;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A set of causalkv node processes: on loopback (ids 127.0.0.1:port), or each in its own
 * network namespace on a bridge (ids 10.77.0.x:8080) so partitions can be cut with iptables.
 */
final class Cluster implements AutoCloseable {
  static final String NS_PREFIX = "ckvb";
  static final String BRIDGE = "ckvbbr0";
  /** The host's address on the bridge: where the suite's clients and admin reads come from. */
  static final String HOST = "10.77.0.1";

  /** One node process. */
  static final class Node {
    final String id;
    final int listenPort;
    final String ns; // null on loopback
    final Path dataDir;
    Process proc;
    Node(String id, int listenPort, String ns, Path dataDir) { this.id = id; this.listenPort = listenPort; this.ns = ns; this.dataDir = dataDir; }
    InetSocketAddress addr() {
      int c = id.lastIndexOf(':');
      return new InetSocketAddress(id.substring(0, c), Integer.parseInt(id.substring(c + 1)));
    }
    long pid() { return proc == null ? -1 : proc.pid(); }
  }

  final Path jar;
  final Path work;
  final List<Node> nodes = new ArrayList<>();
  final boolean netns;
  final String dataMode; // ":memory:" or "disk"
  final Map<String, String> extraEnv;
  final String jvmOpts;

  Cluster(Path jar, Path work, boolean netns, String dataMode, Map<String, String> extraEnv, String jvmOpts) {
    this.jar = jar; this.work = work; this.netns = netns; this.dataMode = dataMode;
    this.extraEnv = extraEnv == null ? Map.of() : extraEnv; this.jvmOpts = jvmOpts;
  }

  /** When set, every node writes its GC log to {@code gcDir/<tag>-<node>.log}. */
  Path gcDir;
  String gcTag = "node";

  Path gcLog(Node n) {
    return gcDir == null ? null : gcDir.resolve(gcTag + "-" + n.id.replace(':', '_').replace('.', '_') + ".log");
  }

  List<Long> pids() {
    List<Long> p = new ArrayList<>();
    for (Node n : nodes) p.add(n.pid());
    return p;
  }

  /** Defines n nodes (not started). Loopback ports basePort+1..; namespaces ckvb1... */
  Cluster define(int n, int basePort) throws IOException {
    for (int i = 1; i <= n; i++) defineOne(i, basePort);
    return this;
  }

  Node defineOne(int i, int basePort) throws IOException {
    Path dd = work.resolve("data-" + (netns ? "ns" : "lo") + "-" + (basePort + i));
    deleteTree(dd);
    Node nd = netns ? new Node("10.77.0." + (10 + i) + ":8080", 8080, NS_PREFIX + i, dd)
        : new Node("127.0.0.1:" + (basePort + i), basePort + i, null, dd);
    nodes.add(nd);
    return nd;
  }

  String view(List<Node> members) {
    StringBuilder sb = new StringBuilder();
    for (Node n : members) { if (sb.length() > 0) sb.append(','); sb.append(n.id); }
    return sb.toString();
  }

  void startAll() throws Exception {
    String v = view(nodes);
    for (Node n : nodes) start(n, v);
    for (Node n : nodes) awaitUp(n, 60_000);
  }

  void start(Node n, String view) throws IOException {
    if (netns) ensureNamespace(n);
    Map<String, String> env = new HashMap<>(extraEnv);
    env.put("VIEW", view);
    env.put("IP_PORT", n.id);
    env.put("PORT", Integer.toString(n.listenPort));
    env.put("BIND", n.id.substring(0, n.id.lastIndexOf(':')));
    // The admin endpoints answer loopback and members only; the suite reads /admin/stats from the
    // bridge's host address, so nodes in namespaces let it in.
    if (n.ns != null) env.putIfAbsent("ADMIN_FROM", HOST);
    if (dataMode.equals(":memory:")) env.put("DATA_DIR", ":memory:");
    else { Files.createDirectories(n.dataDir); env.put("DATA_DIR", n.dataDir.toString()); }
    List<String> cmd = new ArrayList<>();
    if (n.ns != null) { cmd.add("ip"); cmd.add("netns"); cmd.add("exec"); cmd.add(n.ns); }
    cmd.add("java");
    if (jvmOpts != null && !jvmOpts.isBlank()) for (String o : jvmOpts.trim().split("\\s+")) cmd.add(o);
    if (gcDir != null) { Files.createDirectories(gcDir); Files.deleteIfExists(gcLog(n)); cmd.add(GcLog.option(gcLog(n))); }
    cmd.add("-jar");
    cmd.add(jar.toString());
    n.proc = Procs.start(cmd, env, work.resolve("node-" + n.id.replace(':', '_') + ".log"));
  }

  static void awaitUp(Node n, long timeoutMs) throws Exception {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (!Http.up(n.id)) {
      if (!n.proc.isAlive()) throw new IllegalStateException("node " + n.id + " exited with " + n.proc.exitValue());
      if (System.currentTimeMillis() > deadline) throw new IllegalStateException("node " + n.id + " did not come up");
      Thread.sleep(100);
    }
  }

  List<InetSocketAddress> addrs() {
    List<InetSocketAddress> a = new ArrayList<>();
    for (Node n : nodes) a.add(n.addr());
    return a;
  }

  /** GET /admin/stats as JSON, or an empty object. */
  static JsonObject stats(Node n) {
    try (Http h = new Http(n.id, 10_000)) {
      Http.Reply r = h.get("/admin/stats");
      if (r.status != 200) return new JsonObject();
      JsonElement e = JsonParser.parseString(r.body);
      return e.isJsonObject() ? e.getAsJsonObject() : new JsonObject();
    } catch (Exception e) {
      return new JsonObject();
    }
  }

  /** Cuts node n off from every other node (not from the host, 10.77.0.1): DROP both ways, like a real partition. */
  void isolate(Node n) {
    String[][] rules = {
        {"-A", "INPUT", "-s", HOST, "-j", "ACCEPT"}, {"-A", "INPUT", "-s", "10.77.0.0/24", "-j", "DROP"},
        {"-A", "OUTPUT", "-d", HOST, "-j", "ACCEPT"}, {"-A", "OUTPUT", "-d", "10.77.0.0/24", "-j", "DROP"}};
    for (String[] r : rules) {
      List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", n.ns, "iptables"));
      cmd.addAll(List.of(r));
      if (Procs.runRc(cmd.toArray(new String[0])) != 0) throw new IllegalStateException("iptables failed: " + cmd);
    }
  }

  void heal(Node n) {
    Procs.run("ip", "netns", "exec", n.ns, "iptables", "-F", "INPUT");
    Procs.run("ip", "netns", "exec", n.ns, "iptables", "-F", "OUTPUT");
  }

  static boolean netnsAvailable() {
    return Procs.onPath("ip") && Procs.onPath("iptables") && "0".equals(Procs.run("id", "-u"));
  }

  private static void ensureNamespace(Node n) {
    String ns = n.ns;
    int i = Integer.parseInt(ns.substring(NS_PREFIX.length()));
    if (Procs.runRc("ip", "link", "show", BRIDGE) != 0) {
      Procs.run("ip", "link", "add", BRIDGE, "type", "bridge");
      Procs.run("ip", "addr", "add", HOST + "/24", "dev", BRIDGE);
      Procs.run("ip", "link", "set", BRIDGE, "up");
    }
    if (Procs.runRc("ip", "netns", "exec", ns, "true") != 0) {
      String host = "ckvbv" + i;
      String peer = "ckvbp" + i;
      Procs.run("ip", "netns", "add", ns);
      Procs.run("ip", "link", "add", host, "type", "veth", "peer", "name", peer);
      Procs.run("ip", "link", "set", peer, "netns", ns);
      Procs.run("ip", "link", "set", host, "master", BRIDGE);
      Procs.run("ip", "link", "set", host, "up");
      Procs.run("ip", "netns", "exec", ns, "ip", "addr", "add", "10.77.0." + (10 + i) + "/24", "dev", peer);
      Procs.run("ip", "netns", "exec", ns, "ip", "link", "set", peer, "up");
      Procs.run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
    }
    Procs.run("ip", "netns", "exec", ns, "iptables", "-F");
  }

  /** Removes the namespaces and bridge this suite created. */
  static void teardownNetns(int max) {
    for (int i = 1; i <= max; i++) {
      String ns = NS_PREFIX + i;
      if (Procs.runRc("ip", "netns", "exec", ns, "true") == 0) {
        Procs.run("ip", "link", "del", "ckvbv" + i);
        Procs.run("ip", "netns", "del", ns);
      }
    }
    if (Procs.runRc("ip", "link", "show", BRIDGE) == 0) Procs.run("ip", "link", "del", BRIDGE);
  }

  @Override
  public void close() {
    for (Node n : nodes) Procs.stop(n.proc);
    for (Node n : nodes) { try { deleteTree(n.dataDir); } catch (IOException ignored) { } }
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) return;
    try (var s = Files.walk(p)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(x -> { try { Files.delete(x); } catch (IOException ignored) { } });
    }
  }
}
