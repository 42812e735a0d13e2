package dev.causalkv.cli;

import dev.causalkv.BuildInfo;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code kv}: the client command line. It talks HTTP to the nodes like any client, keeps each
 * named session's causal payload in a file and sends it with every call, so a person at a shell
 * gets the same guarantee a program carrying its payload gets: never to read anything older than
 * what the session has already seen or written.
 */
@Command(
    name = "kv",
    mixinStandardHelpOptions = true,
    versionProvider = KvCommand.Version.class,
    description = "Client for a causalkv cluster: keys, view, cluster status; carries each session's causal payload.",
    subcommands = {
      KeyCommands.Put.class, KeyCommands.Get.class, KeyCommands.Del.class, KeyCommands.Search.class,
      ViewCommand.class, StatusCommand.class, MergeCommand.class, SiblingsCommand.class, SessionCommand.class
    },
    footer = {
      "",
      "Exit status: 0 success; 1 key does not exist (get, del, search); 2 usage error; 3 the node refused the",
      "request (e.g. Payload out of date, Payload is not valid); 4 no answer (see the message: a write may or",
      "may not have been applied when the request was sent but no answer came); 5 the node failed (5xx).",
      "Environment: KV_NODE, KV_NODES, KV_SESSION, KV_SESSIONS_DIR, CLUSTER_TOKEN."
    })
public final class KvCommand implements Callable<Integer> {

  static final int OK = 0;
  static final int NOT_FOUND = 1;
  static final int USAGE = 2;
  static final int REFUSED = 3;
  static final int NO_ANSWER = 4;
  static final int FAILED = 5;

  static final String DEFAULT_NODE = "127.0.0.1:8081";

  /** Prints the build's version for {@code --version}. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"causalkv " + BuildInfo.version()};
    }
  }

  @Option(names = {"-n", "--node"}, scope = ScopeType.INHERIT, paramLabel = "HOST:PORT",
      description = "The node to ask (env KV_NODE; default " + DEFAULT_NODE + ").")
  String node;

  @Option(names = "--nodes", scope = ScopeType.INHERIT, paramLabel = "LIST", split = ",",
      description = "Every node, comma-separated: where --retry-other goes and what status shows "
          + "(env KV_NODES; default: the view of --node).")
  List<String> nodes;

  @Option(names = {"-s", "--session"}, scope = ScopeType.INHERIT, paramLabel = "NAME",
      description = "The session whose payload is sent and kept (env KV_SESSION; default 'default').")
  String session;

  @Option(names = "--no-session", scope = ScopeType.INHERIT,
      description = "Send no payload and keep none (a fresh client with no history).")
  boolean noSession;

  @Option(names = "--sessions-dir", scope = ScopeType.INHERIT, paramLabel = "DIR",
      description = "Where session files live (env KV_SESSIONS_DIR; default ~/.causalkv/sessions).")
  Path sessionsDir;

  @Option(names = "--retry-other", scope = ScopeType.INHERIT,
      description = "When a node answers 'Payload out of date' to a read, or cannot be reached, try the other nodes in turn.")
  boolean retryOther;

  @Option(names = "--json", scope = ScopeType.INHERIT, description = "Print the node's raw JSON answer.")
  boolean json;

  @Option(names = "--header", scope = ScopeType.INHERIT,
      description = "Send the payload in the X-Causal-Payload header instead of the form body.")
  boolean header;

  @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
      description = "Say on stderr which node answered, with what status and payload.")
  boolean verbose;

  @Option(names = "--token", scope = ScopeType.INHERIT, paramLabel = "TOKEN",
      description = "Cluster token for /admin endpoints (env CLUSTER_TOKEN).")
  String token;

  @Option(names = "--timeout", scope = ScopeType.INHERIT, paramLabel = "SECONDS", defaultValue = "10",
      description = "How long to wait for each answer (default 10).")
  int timeoutSeconds;

  @Spec CommandSpec spec;

  private final Map<String, String> env;
  private NodeClient client;

  KvCommand(Map<String, String> env) {
    this.env = env;
  }

  /**
   * Runs {@code kv} with {@code args}; returns the exit status. {@code env} stands for the
   * process environment (tests pass their own).
   */
  public static int run(String[] args, PrintWriter out, PrintWriter err, Map<String, String> env) {
    CommandLine cl = new CommandLine(new KvCommand(env));
    cl.setOut(out);
    cl.setErr(err);
    cl.setExitCodeExceptionMapper(e -> FAILED);
    cl.setParameterExceptionHandler((ex, a) -> {
      err.println("kv: " + ex.getMessage());
      ex.getCommandLine().usage(err);
      return USAGE;
    });
    cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
      err.println("kv: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
      return ex instanceof IllegalArgumentException ? USAGE : FAILED;
    });
    int rc = cl.execute(args);
    out.flush();
    err.flush();
    return rc;
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(err());
    return USAGE;
  }

  // ---------------------------------------------------------------- settings

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }

  String node() {
    if (node != null) return node.trim();
    String e = env.get("KV_NODE");
    return e == null || e.isBlank() ? DEFAULT_NODE : e.trim();
  }

  String sessionName() {
    if (session != null) return session;
    String e = env.get("KV_SESSION");
    return e == null || e.isBlank() ? "default" : e.trim();
  }

  Sessions sessions() {
    if (sessionsDir != null) return new Sessions(sessionsDir);
    String e = env.get("KV_SESSIONS_DIR");
    if (e != null && !e.isBlank()) return new Sessions(Path.of(e));
    return new Sessions(Path.of(env.getOrDefault("HOME", System.getProperty("user.home")), ".causalkv", "sessions"));
  }

  NodeClient client() {
    if (client == null) {
      String t = token != null ? token : env.get("CLUSTER_TOKEN");
      client = new NodeClient(Duration.ofSeconds(Math.max(1, timeoutSeconds)), t == null || t.isEmpty() ? null : t);
    }
    return client;
  }

  /** The nodes named by --nodes (or KV_NODES), else null. */
  List<String> namedNodes() {
    if (nodes != null && !nodes.isEmpty()) return trimmed(nodes);
    String e = env.get("KV_NODES");
    if (e != null && !e.isBlank()) return trimmed(List.of(e.split(",")));
    return null;
  }

  /** Every node: --nodes, else the view of --node (itself alone when it does not answer). */
  List<String> allNodes() {
    List<String> named = namedNodes();
    if (named != null) return named;
    NodeClient.Answer a = client().send("GET", node(), "/view", Map.of(), Map.of());
    String view = a.answered() ? a.string("view") : null;
    if (view == null || view.isBlank()) return List.of(node());
    return trimmed(List.of(view.split(",")));
  }

  private static List<String> trimmed(List<String> in) {
    List<String> out = new ArrayList<>();
    for (String s : in) if (!s.isBlank() && !out.contains(s.trim())) out.add(s.trim());
    return out;
  }

  // ---------------------------------------------------------------- one session call

  /**
   * Sends a key-value request with the session's payload and keeps the answer's payload. With
   * {@code --retry-other}, a read answered {@code Payload out of date} (the node has not yet
   * received what the session has seen), or any request that could not even connect, goes to
   * the next node, carrying the (possibly newer) payload the refusal handed back.
   */
  NodeClient.Answer sessionCall(String method, String path, Map<String, String> params, boolean read) {
    String name = noSession ? null : sessionName();
    Sessions store = sessions();
    String payload = name == null ? "" : store.load(name);
    List<String> targets = new ArrayList<>(List.of(node()));
    boolean othersAdded = false;
    NodeClient.Answer a = null;
    for (int i = 0; i < targets.size(); i++) {
      String target = targets.get(i);
      Map<String, String> form = new LinkedHashMap<>(params);
      Map<String, String> headers = new LinkedHashMap<>();
      if (!payload.isEmpty()) {
        if (header) headers.put(NodeClient.PAYLOAD_HEADER, payload);
        else form.put("payload", payload);
      }
      a = client().send(method, target, path, form, headers);
      if (verbose) {
        err().println("kv: " + method + " " + target + path + " -> "
            + (a.answered() ? a.status() + (a.msg() != null ? " " + a.msg() : "") : a.failure()));
      }
      if (a.answered() && a.payload() != null) {
        payload = a.payload();
        if (name != null) store.store(name, payload);
      }
      boolean retry = retryOther && ((read && a.outOfDate()) || (!a.answered() && !a.sent()));
      if (!retry) break;
      if (!othersAdded) {
        othersAdded = true;
        for (String n : allNodes()) if (!targets.contains(n)) targets.add(n);
      }
      if (i + 1 < targets.size()) {
        err().println("kv: " + target + ": " + (a.answered() ? a.msg() : a.failure()) + "; trying " + targets.get(i + 1));
      }
    }
    return a;
  }

  /**
   * Prints what went wrong with {@code a}, if anything, and returns the exit status. {@code write}
   * says whether an unanswered request may have changed something.
   */
  int report(NodeClient.Answer a, boolean write) {
    if (!a.answered()) {
      String what = !a.sent() ? "nothing was sent"
          : write ? "the request was sent: the write may or may not have been applied" : "the request was sent";
      err().println("kv: " + a.node() + ": " + a.failure() + " (" + what + ")");
      return NO_ANSWER;
    }
    if (a.status() < 300) return OK;
    String msg = a.msg() != null ? a.msg() : a.body().trim();
    String detail = a.string("detail");
    err().println("kv: " + a.node() + ": " + msg + (detail != null ? " (" + detail + ")" : ""));
    if ("Payload out of date".equals(a.msg()) && !retryOther) {
      err().println("kv: the node has not yet received what this session has seen; retry, or add --retry-other");
    }
    if ("Payload is not valid".equals(a.msg())) {
      err().println("kv: the session's payload was refused; 'kv session forget " + sessionName() + "' starts it afresh");
    }
    if (a.status() == 404) return NOT_FOUND;
    return a.status() >= 500 ? FAILED : REFUSED;
  }

  /** Prints the raw answer (for --json). */
  void printRaw(NodeClient.Answer a) {
    if (!a.answered()) return;
    String b = a.body();
    out().print(b.endsWith("\n") ? b : b + "\n");
  }
}
