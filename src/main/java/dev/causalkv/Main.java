package dev.causalkv;

import dev.causalkv.node.Config;
import dev.causalkv.node.Node;

/** Starts one node of the store from its environment (VIEW, IP_PORT, ...); see README.md. */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
    Config config;
    try {
      config = Config.fromEnv(System.getenv());
    } catch (Config.ConfigException e) {
      System.err.println("causalkv: " + e.getMessage());
      System.exit(2);
      return;
    }
    Node node;
    try {
      node = Node.create(config).start();
    } catch (RuntimeException | LinkageError e) {
      System.err.println("causalkv: cannot start: " + e.getMessage());
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(node::close, "shutdown"));
    System.err.println("causalkv: node " + config.nodeId() + " (origin " + node.core().origin() + ") listening on "
        + config.bind() + ":" + node.port() + ", view " + String.join(",", node.core().members())
        + ", storage " + (config.inMemory() ? "memory" : config.dataDir()));
  }
}
