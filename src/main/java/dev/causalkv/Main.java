package dev.causalkv;

import dev.causalkv.cli.KvCommand;
import dev.causalkv.node.Config;
import dev.causalkv.node.Logs;
import dev.causalkv.node.Node;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The jar's entry point: with no arguments (or {@code serve}) it starts one node from its
 * environment (VIEW, IP_PORT, ...; see README.md); {@code kv ...} is the client command line.
 */
public final class Main {

  private static final String USAGE = String.join("\n",
      "usage: java -jar causalkv.jar [serve]      start a node, configured by VIEW, IP_PORT, ... (README.md)",
      "       java -jar causalkv.jar kv COMMAND   the client: put, get, del, search, view, status, merge, siblings, session",
      "       java -jar causalkv.jar --version",
      "       java -jar causalkv.jar kv --help");

  private Main() {}

  public static void main(String[] args) {
    if (args.length == 0 || (args.length == 1 && args[0].equals("serve"))) {
      int rc = serve();
      if (rc != 0) System.exit(rc);
      return; // the node's server threads keep the JVM running
    }
    switch (args[0]) {
      case "kv" -> {
        PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        System.exit(KvCommand.run(Arrays.copyOfRange(args, 1, args.length), out, err, System.getenv()));
      }
      case "--version", "-V", "version" -> System.out.println("causalkv " + BuildInfo.version());
      case "--help", "-h", "help" -> System.out.println(USAGE);
      default -> {
        System.err.println("causalkv: unknown command '" + args[0] + "'\n" + USAGE);
        System.exit(2);
      }
    }
  }

  /** Starts a node; returns 0 once it serves, 2 for bad configuration, 1 when it cannot start. */
  private static int serve() {
    Config config;
    Level level;
    try {
      level = Logs.parse(System.getenv("LOG_LEVEL"));
      config = Config.fromEnv(System.getenv());
    } catch (Config.ConfigException e) {
      System.err.println("causalkv: " + e.getMessage());
      return 2;
    }
    Logs.configure(level);
    Node node;
    try {
      node = Node.create(config).start();
    } catch (RuntimeException | LinkageError e) {
      System.err.println("causalkv: cannot start: " + e.getMessage());
      return 1;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      Logger.getLogger(Main.class.getName()).info("shutting down: answering parked requests, closing the store");
      node.close();
    }, "shutdown"));
    Logger.getLogger(Main.class.getName()).info(() -> "causalkv " + BuildInfo.version() + ": node " + config.nodeId()
        + " (origin " + node.core().origin() + ") listening on " + config.bind() + ":" + node.port()
        + "; view " + String.join(",", node.core().members())
        + "; storage " + (config.inMemory() ? "memory" : config.dataDir() + " (SYNC=" + config.sync() + ")")
        + "; CAUSAL_WAIT_MS=" + config.causalWaitMillis() + " PULL_HOLD_MS=" + config.pullHoldMillis()
        + " WORKER_THREADS=" + config.workerThreads() + " MAX_WAITING_READS=" + config.maxWaitingReads()
        + " CLOCK_SKEW_MS=" + config.clockSkewMillis()
        + " CLUSTER_TOKEN=" + (config.clusterToken() == null ? "unset" : "set")
        + " LOG_LEVEL=" + Logs.name(level));
    return 0;
  }
}
