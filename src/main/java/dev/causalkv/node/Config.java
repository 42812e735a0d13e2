package dev.causalkv.node;

import dev.causalkv.security.AddressRange;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** The node's configuration, read from environment variables and checked once at start-up. */
public record Config(
    String nodeId,
    List<String> view,
    String bind,
    int port,
    String dataDir,
    long causalWaitMillis,
    String clusterToken,
    long clockSkewMillis,
    long pullHoldMillis,
    int workerThreads,
    String sync,
    int maxWaitingReads,
    List<AddressRange> adminFrom,
    boolean causalOff) {

  /** A configuration that cannot run; its message is the one line printed before exiting with code 2. */
  public static final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
      super(message);
    }
  }

  public static final String MEMORY = ":memory:";
  private static final Pattern IP_PORT = Pattern.compile("^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?:[0-9]{1,5}$");

  public static Config fromEnv(Map<String, String> env) {
    String id = required(env, "IP_PORT");
    checkMember("IP_PORT", id);
    String viewText = required(env, "VIEW");
    LinkedHashSet<String> members = new LinkedHashSet<>();
    for (String m : viewText.split(",")) {
      String t = m.trim();
      if (t.isEmpty()) continue;
      checkMember("VIEW", t);
      members.add(t);
    }
    if (members.isEmpty()) throw new ConfigException("VIEW must list at least one ip:port");
    String dataDir = env.getOrDefault("DATA_DIR", "").trim();
    if (dataDir.isEmpty()) dataDir = "data/" + id.replace(':', '_');
    String sync = env.getOrDefault("SYNC", "batch").trim().toLowerCase();
    if (!List.of("always", "batch", "never").contains(sync)) {
      throw new ConfigException("SYNC must be always, batch or never, was '" + sync + "'");
    }
    // CAUSAL=off is a benchmark baseline only (docs/design.md §8): reads never wait, causality is not kept.
    String causal = env.getOrDefault("CAUSAL", "on").trim().toLowerCase();
    if (!List.of("on", "off").contains(causal)) throw new ConfigException("CAUSAL must be on or off, was '" + causal + "'");
    String token = env.get("CLUSTER_TOKEN");
    if (token != null && token.isEmpty()) token = null;
    List<AddressRange> adminFrom = new ArrayList<>();
    for (String r : env.getOrDefault("ADMIN_FROM", "").split(",")) {
      if (r.isBlank()) continue;
      try {
        adminFrom.add(AddressRange.parse(r));
      } catch (IllegalArgumentException e) {
        throw new ConfigException("ADMIN_FROM: " + e.getMessage() + " (expected addresses or CIDR ranges, comma-separated)");
      }
    }
    return new Config(
        id,
        new ArrayList<>(members),
        env.getOrDefault("BIND", "0.0.0.0").trim(),
        (int) number(env, "PORT", 8080, 0, 65535),
        dataDir,
        number(env, "CAUSAL_WAIT_MS", 1000, 0, 600_000),
        token,
        number(env, "CLOCK_SKEW_MS", 0, -86_400_000L * 365, 86_400_000L * 365),
        number(env, "PULL_HOLD_MS", 5_000, 1, 60_000),
        (int) number(env, "WORKER_THREADS", 16, 1, 1024),
        sync,
        (int) number(env, "MAX_WAITING_READS", 20_000, 1, 1_000_000),
        List.copyOf(adminFrom),
        causal.equals("off"));
  }

  public boolean inMemory() {
    return MEMORY.equals(dataDir);
  }

  private static String required(Map<String, String> env, String name) {
    String v = env.get(name);
    if (v == null || v.isBlank()) throw new ConfigException(name + " is required (e.g. " + name + "=10.0.0.2:8080)");
    return v.trim();
  }

  private static void checkMember(String var, String s) {
    if (!IP_PORT.matcher(s).matches()) throw new ConfigException(var + " has '" + s + "', expected ip:port");
    int port = Integer.parseInt(s.substring(s.lastIndexOf(':') + 1));
    if (port < 1 || port > 65535) throw new ConfigException(var + " has '" + s + "': port out of range");
  }

  private static long number(Map<String, String> env, String name, long dflt, long min, long max) {
    String v = env.get(name);
    if (v == null || v.isBlank()) return dflt;
    try {
      long n = Long.parseLong(v.trim());
      if (n < min || n > max) throw new ConfigException(name + " must be between " + min + " and " + max + ", was " + n);
      return n;
    } catch (NumberFormatException e) {
      throw new ConfigException(name + " must be a whole number, was '" + v + "'");
    }
  }
}
