package dev.causalkv.bench;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Baseline (b): redis-server on loopback (no persistence) measured with redis-benchmark
 * SET/GET at the same concurrency and value size. Skipped with a note when not installed.
 */
final class RedisBaseline {
  static final int PORT = 16379;

  private RedisBaseline() {}

  static boolean available() {
    return Procs.onPath("redis-server") && Procs.onPath("redis-benchmark");
  }

  /** Returns test name → requests/s, plus "p50:NAME"/"p99:NAME" when the CSV has them. */
  static Map<String, Double> run(Path work, int conns, int valueBytes, long keys, int requests) throws Exception {
    Process srv = Procs.start(List.of("redis-server", "--port", Integer.toString(PORT), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--daemonize", "no"), Map.of(), work.resolve("redis.log"));
    Map<String, Double> out = new LinkedHashMap<>();
    try {
      for (int i = 0; i < 50 && Procs.runRc("redis-cli", "-p", Integer.toString(PORT), "ping") != 0; i++) Thread.sleep(100);
      String csv = Procs.run("timeout", "300", "redis-benchmark", "-h", "127.0.0.1", "-p", Integer.toString(PORT), "-c", Integer.toString(conns),
          "-n", Integer.toString(requests), "-d", Integer.toString(valueBytes), "-r", Long.toString(keys),
          "-t", "set,get", "--csv");
      String[] header = null;
      for (String line : csv.split("\n")) {
        String[] f = line.replace("\"", "").split(",");
        if (f.length < 2) continue;
        if (f[0].equals("test")) { header = f; continue; }
        try {
          out.put(f[0], Double.parseDouble(f[1]));
          if (header != null) {
            for (int k = 2; k < f.length && k < header.length; k++) {
              if (header[k].startsWith("p50")) out.put("p50:" + f[0], Double.parseDouble(f[k]));
              if (header[k].startsWith("p99")) out.put("p99:" + f[0], Double.parseDouble(f[k]));
            }
          }
        } catch (NumberFormatException ignored) { }
      }
    } finally {
      Procs.stop(srv);
    }
    return out;
  }
}
