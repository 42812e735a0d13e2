package dev.causalkv.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/**
 * {@code kv status}: every node of the cluster side by side, like {@code nodetool status}: state,
 * version, keys, digest of the visible state, peers reachable, lag, view; then each link as each
 * node sees it. Exit status 0 when every node answered and all agree on view and digest.
 */
@Command(name = "status", description = {
    "Show every node side by side (--nodes, else the view of --node): keys, digest of the visible state,",
    "peers up, lag, view; then every link as each node sees it. Exit status 0 when every node answered",
    "and all have the same view and digest (converged), else 1."})
final class StatusCommand implements Callable<Integer> {

  @ParentCommand KvCommand kv;

  /** What one node said: its /admin/peers and /admin/digest answers (either may be missing). */
  private record NodeState(String node, NodeClient.Answer peers, NodeClient.Answer digest) {
    boolean up() {
      return peers.answered() && peers.status() == 200 && peers.json() != null;
    }

    String digestValue() {
      return digest.answered() && digest.status() == 200 ? digest.string("digest") : null;
    }

    JsonObject p() {
      return peers.json();
    }
  }

  @Override
  public Integer call() {
    List<String> nodes = kv.allNodes();
    List<CompletableFuture<NodeState>> asks = new ArrayList<>();
    for (String n : nodes) {
      CompletableFuture<NodeClient.Answer> p = kv.client().sendAsync("GET", n, "/admin/peers", Map.of(), Map.of());
      CompletableFuture<NodeClient.Answer> d = kv.client().sendAsync("GET", n, "/admin/digest", Map.of(), Map.of());
      asks.add(p.thenCombine(d, (pa, da) -> new NodeState(n, pa, da)));
    }
    List<NodeState> states = new ArrayList<>();
    for (CompletableFuture<NodeState> f : asks) states.add(f.join());

    Set<String> digests = new LinkedHashSet<>();
    Set<Set<String>> views = new LinkedHashSet<>();
    boolean allUp = true;
    for (NodeState s : states) {
      if (!s.up()) {
        allUp = false;
        continue;
      }
      digests.add(String.valueOf(s.digestValue()));
      views.add(new TreeSet<>(List.of(s.p().get("view").getAsString().split(","))));
    }
    boolean converged = allUp && digests.size() == 1 && views.size() == 1;

    if (kv.json) {
      JsonArray arr = new JsonArray();
      for (NodeState s : states) {
        JsonObject o = s.up() ? s.p().deepCopy() : new JsonObject();
        o.addProperty("node", s.node());
        o.addProperty("answered", s.up());
        if (!s.up()) o.addProperty("error", s.peers.answered() ? "answered " + s.peers.status() : s.peers.failure());
        if (s.digest.json() != null && s.digest.status() == 200) o.add("digest", s.digest.json());
        arr.add(o);
      }
      JsonObject out = new JsonObject();
      out.add("nodes", arr);
      out.addProperty("converged", converged);
      kv.out().println(out);
      return converged ? KvCommand.OK : KvCommand.NOT_FOUND;
    }

    Table t = new Table("NODE", "STATE", "VERSION", "KEYS", "DIGEST", "PEERS UP", "BEHIND", "VIEW", "UPTIME");
    for (NodeState s : states) {
      if (!s.up()) {
        String why = !s.peers.answered() ? s.peers.failure()
            : "answered " + s.peers.status() + (s.peers.status() == 401 ? " (give --token or CLUSTER_TOKEN)" : "");
        t.row(s.node(), s.peers.answered() ? "ERROR" : "DOWN", "-", "-", "-", "-", "-", "-", why);
        continue;
      }
      JsonObject p = s.p();
      JsonArray peers = p.getAsJsonArray("peers");
      int up = 0;
      long behind = 0;
      double behindSeconds = 0;
      for (JsonElement e : peers) {
        JsonObject q = e.getAsJsonObject();
        if (q.get("reachable").getAsBoolean()) up++;
        if (q.has("behindVersions")) behind = Math.max(behind, q.get("behindVersions").getAsLong());
        if (q.has("behindSeconds")) behindSeconds = Math.max(behindSeconds, q.get("behindSeconds").getAsDouble());
      }
      String digest = s.digestValue();
      String state = p.get("removed").getAsBoolean() ? "REMOVED" : "UP";
      t.row(s.node(), state, p.get("version").getAsString(), p.get("keys").getAsLong(),
          digest == null ? "?" : digest.substring(0, 12), up + "/" + peers.size(),
          behind + " v, " + String.format("%.1f s", behindSeconds), p.get("view").getAsString().split(",").length + " members",
          uptime(p.get("uptimeSeconds").getAsLong()));
    }
    t.print(kv.out());

    // Links: row = the node that pulls, column = the peer it pulls from.
    kv.out().println();
    kv.out().println("links (row pulls from column: state, versions / seconds the row is behind):");
    List<String> header = new ArrayList<>();
    header.add("");
    header.addAll(nodes);
    Table links = new Table(header.toArray(new String[0]));
    for (NodeState s : states) {
      List<Object> row = new ArrayList<>();
      row.add(s.node());
      Map<String, JsonObject> byPeer = new LinkedHashMap<>();
      if (s.up()) for (JsonElement e : s.p().getAsJsonArray("peers")) byPeer.put(e.getAsJsonObject().get("peer").getAsString(), e.getAsJsonObject());
      for (String col : nodes) {
        if (col.equals(s.node())) row.add("·");
        else if (!s.up()) row.add("?");
        else row.add(cell(byPeer.get(col)));
      }
      links.row(row.toArray());
    }
    links.print(kv.out());
    kv.out().println();
    if (!allUp) kv.out().println("not every node answered");
    kv.out().println(digests.size() <= 1 && !digests.isEmpty()
        ? "digests: equal on " + (states.size() - (allUp ? 0 : countDown(states))) + " nodes"
        : "digests: " + digests.size() + " different values (not converged, or still replicating)");
    kv.out().println(views.size() <= 1 ? "views: equal" : "views: differ (" + views.size() + " different views)");
    return converged ? KvCommand.OK : KvCommand.NOT_FOUND;
  }

  private static long countDown(List<NodeState> states) {
    return states.stream().filter(s -> !s.up()).count();
  }

  private static String cell(JsonObject q) {
    if (q == null) return "not a peer";
    String state = q.get("state").getAsString();
    if (!q.has("behindVersions")) return state;
    return state + " " + q.get("behindVersions").getAsLong() + "/" + String.format("%.1fs", q.get("behindSeconds").getAsDouble());
  }

  private static String uptime(long s) {
    if (s < 60) return s + " s";
    if (s < 3600) return (s / 60) + " m " + (s % 60) + " s";
    return (s / 3600) + " h " + (s % 3600 / 60) + " m";
  }
}
