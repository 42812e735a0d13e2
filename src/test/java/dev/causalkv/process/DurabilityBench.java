package dev.causalkv.process;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Measurements for docs/durability.md, run by hand (not a test): the packaged jar as a real
 * process, driven over HTTP from this JVM on the same machine.
 *
 * <pre>
 *   mvn -B -q package -DskipTests && mvn -B -q test-compile
 *   java -cp target/test-classes:target/causalkv.jar dev.causalkv.process.DurabilityBench throughput [seconds]
 *   java -cp target/test-classes:target/causalkv.jar dev.causalkv.process.DurabilityBench recovery [keys]
 *   java -cp target/test-classes:target/causalkv.jar dev.causalkv.process.DurabilityBench engine [seconds]
 * </pre>
 */
public final class DurabilityBench {

  static final List<String> JVM = List.of("-Xmx512m", "-XX:+UseSerialGC");

  public static void main(String[] args) throws Exception {
    String what = args.length > 0 ? args[0] : "throughput";
    Path root = Files.createTempDirectory(Path.of("/tmp"), "ckv-durable-bench-");
    try {
      switch (what) {
        case "throughput" -> throughput(root, args.length > 1 ? Integer.parseInt(args[1]) : 10);
        case "recovery" -> recovery(root, args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000);
        case "engine" -> engine(root, args.length > 1 ? Integer.parseInt(args[1]) : 5);
        default -> throw new IllegalArgumentException("throughput | recovery | engine");
      }
    } finally {
      try (Stream<Path> s = Files.walk(root)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /**
   * PUT throughput and latency per engine / sync mode, same value size, in the same run. Modes are
   * interleaved round by round (a fresh node each time) so that load from elsewhere on the machine
   * spreads over all of them; the summary is the median round of each.
   */
  static void throughput(Path root, int seconds) throws Exception {
    String value = "x".repeat(100);
    int[] concs = Arrays.stream(System.getProperty("conc", "1,32").split(",")).mapToInt(Integer::parseInt).toArray();
    String[] modes = System.getProperty("modes", "memory,never,batch,always").split(",");
    int rounds = Integer.getInteger("rounds", 3);
    Map<String, List<double[]>> results = new java.util.LinkedHashMap<>();
    String header = String.format("%-8s %5s %10s %9s %9s %9s", "engine", "conc", "puts/s", "p50 ms", "p99 ms", "p99.9 ms");
    System.out.println(header);
    for (int round = 0; round < rounds; round++) {
      for (int conc : concs) {
        for (String mode : modes) {
          String id = NodeProcess.freeId();
          Path dir = root.resolve(mode + conc + "-" + round);
          Map<String, String> env = mode.equals("memory") ? Map.of("DATA_DIR", ":memory:") : Map.of("SYNC", mode);
          NodeProcess n = new NodeProcess(id, List.of(id), dir, env, JVM).start();
          try {
            run(n, conc, 3, value, "warm");
            long[] r = run(n, conc, seconds, value, "k");
            long[] lat = Arrays.copyOfRange(r, 1, r.length);
            Arrays.sort(lat);
            double[] row = {r[0] / (double) seconds, pct(lat, 0.50), pct(lat, 0.99), pct(lat, 0.999)};
            results.computeIfAbsent(mode + " " + conc, k -> new ArrayList<>()).add(row);
            System.out.printf("%-8s %5d %10.0f %9.2f %9.2f %9.2f   (round %d)%n", mode, conc, row[0], row[1], row[2], row[3], round + 1);
          } finally {
            n.kill9();
          }
        }
      }
    }
    System.out.println("median round per mode (by throughput):");
    System.out.println(header);
    for (Map.Entry<String, List<double[]>> e : results.entrySet()) {
      List<double[]> rows = new ArrayList<>(e.getValue());
      rows.sort(Comparator.comparingDouble(x -> x[0]));
      double[] m = rows.get(rows.size() / 2);
      String[] k = e.getKey().split(" ");
      System.out.printf("%-8s %5s %10.0f %9.2f %9.2f %9.2f%n", k[0], k[1], m[0], m[1], m[2], m[3]);
    }
  }

  static double pct(long[] sortedNanos, double p) {
    if (sortedNanos.length == 0) return Double.NaN;
    return sortedNanos[Math.min(sortedNanos.length - 1, (int) (p * sortedNanos.length))] / 1e6;
  }

  /** Closed loop: {@code conc} clients PUT distinct keys for {@code seconds}; returns [count, latencies...]. */
  static long[] run(NodeProcess n, int conc, int seconds, String value, String prefix) throws Exception {
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    List<long[]> perThread = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    AtomicLong errors = new AtomicLong();
    for (int t = 0; t < conc; t++) {
      long[] lat = new long[2_000_000];
      perThread.add(lat);
      int tt = t;
      Thread th = new Thread(() -> {
        int i = 0;
        while (System.nanoTime() < end && i < lat.length - 1) {
          long t0 = System.nanoTime();
          try {
            int st = n.put(prefix + tt + "-" + i, value, "").status();
            if (st != 200 && st != 201) errors.incrementAndGet();
          } catch (Exception e) {
            errors.incrementAndGet();
          }
          lat[++i] = System.nanoTime() - t0;
        }
        lat[0] = i;
      });
      th.start();
      threads.add(th);
    }
    for (Thread th : threads) th.join();
    if (errors.get() > 0) System.out.println("  (" + errors.get() + " errors)");
    long total = 0;
    for (long[] l : perThread) total += l[0];
    long[] out = new long[(int) total + 1];
    out[0] = total;
    int p = 1;
    for (long[] l : perThread) {
      System.arraycopy(l, 1, out, p, (int) l[0]);
      p += (int) l[0];
    }
    return out;
  }

  /** A 100-character value that depends on i and does not compress. */
  static String randomValue(long i) {
    java.util.SplittableRandom r = new java.util.SplittableRandom(i);
    char[] c = new char[100];
    for (int j = 0; j < c.length; j++) c[j] = (char) ('!' + r.nextInt(90));
    return new String(c);
  }

  /** Loads {@code keys} keys, kills the node with SIGKILL, and times its restarts. */
  static void recovery(Path root, int keys) throws Exception {
    String id = NodeProcess.freeId();
    Path dir = root.resolve("node");
    NodeProcess loading = new NodeProcess(id, List.of(id), dir, Map.of("SYNC", "never"), JVM).start();
    NodeProcess n = loading;
    long t0 = System.nanoTime();
    int conc = 32;
    List<Thread> threads = new ArrayList<>();
    AtomicLong next = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    java.util.concurrent.atomic.AtomicReference<String> firstError = new java.util.concurrent.atomic.AtomicReference<>();
    for (int t = 0; t < conc; t++) {
      Thread th = new Thread(() -> {
        long i;
        while ((i = next.getAndIncrement()) < keys) {
          for (int attempt = 0; attempt < 5; attempt++) {
            try {
              NodeProcess.Reply r = loading.put("key" + i, randomValue(i), "");
              if (r.status() == 200) break;
              firstError.compareAndSet(null, r.status() + " " + r.json());
            } catch (Exception e) {
              firstError.compareAndSet(null, e.toString());
            }
            errors.incrementAndGet(); // retried: the key is written in the end
          }
        }
      });
      th.start();
      threads.add(th);
    }
    for (Thread th : threads) th.join();
    double loadSecs = (System.nanoTime() - t0) / 1e9;
    long du = du(dir);
    System.out.printf("loaded %d keys (100-byte random values) in %.1f s (%.0f puts/s, %d retried, first: %s)%n",
        keys, loadSecs, keys / loadSecs, errors.get(), firstError.get());
    System.out.printf("data dir after load: %d bytes = %.1f bytes/key%n", du, du / (double) keys);
    for (int cycle = 0; cycle < 3; cycle++) {
      // Some fresh writes in the log (not yet flushed to tables) for the restart to replay.
      for (int i = 0; i < 2000; i++) n.put("extra" + cycle + "-" + i, randomValue(i), "");
      n.kill9();
      long r0 = System.nanoTime();
      n = new NodeProcess(id, List.of(id), dir, Map.of("SYNC", "batch"), JVM).start();
      double up = (System.nanoTime() - r0) / 1e9;
      long count = n.send("GET", "/admin/stats").json().get("keys").getAsLong();
      System.out.printf("restart %d after kill -9: serving after %.2f s (process start to first HTTP answer), %d keys%n",
          cycle + 1, up, count);
      if (count != keys + 2000L * (cycle + 1)) System.out.println("MISMATCH in key count");
    }
    long du2 = du(dir);
    System.out.printf("data dir after recovery: %d bytes = %.1f bytes/key%n", du2, du2 / (double) keys);
    for (int i = 0; i < 2000; i++) n.put("last-" + i, randomValue(i), "");
    n.kill9();
    // The engine's part of a restart, without the JVM's start: open after kill -9, read the metadata.
    for (int i = 0; i < 3; i++) {
      long o0 = System.nanoTime();
      try (dev.causalkv.storage.rocksdb.RocksDbStore s =
               dev.causalkv.storage.rocksdb.RocksDbStore.open(dir, dev.causalkv.storage.rocksdb.RocksDbStore.SyncMode.BATCH, 128 << 20)) {
        long ms = (System.nanoTime() - o0) / 1_000_000;
        System.out.printf("in-process open of the %d-key directory%s: %d ms (%d keys, own seq %d)%n", s.keyCount(),
            i == 0 ? " right after kill -9 (log replay)" : "", ms, s.keyCount(), s.loadMeta().ownSeq());
      }
    }
    for (int i = 0; i < 3; i++) {
      Path empty = root.resolve("empty" + i);
      long e0 = System.nanoTime();
      NodeProcess fresh = new NodeProcess(id, List.of(id), empty, Map.of(), JVM).start();
      System.out.printf("baseline: start on an empty data dir %.2f s%n", (System.nanoTime() - e0) / 1e9);
      fresh.kill9();
    }
  }

  /**
   * The engine alone, in this JVM: threads commit one-key batches under one lock (as the replica
   * does) and wait for durability (as the HTTP edge does). Shows the fsync cost and the grouping.
   */
  static void engine(Path root, int seconds) throws Exception {
    System.out.printf("%-7s %7s %12s %10s %10s%n", "SYNC", "threads", "commits/s", "fsyncs/s", "per fsync");
    for (String mode : new String[] {"never", "batch", "always"}) {
      for (int threads : new int[] {1, 32}) {
        Path dir = root.resolve("engine-" + mode + threads);
        try (dev.causalkv.storage.rocksdb.RocksDbStore s =
                 dev.causalkv.storage.rocksdb.RocksDbStore.open(dir, dev.causalkv.storage.rocksdb.RocksDbStore.SyncMode.parse(mode), 64 << 20)) {
          Object lock = new Object();
          long[] seq = {0};
          AtomicLong done = new AtomicLong();
          long end = System.nanoTime() + seconds * 1_000_000_000L;
          List<Thread> ts = new ArrayList<>();
          for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
              while (System.nanoTime() < end) {
                java.util.concurrent.CompletableFuture<Void> f;
                synchronized (lock) {
                  long n = ++seq[0];
                  dev.causalkv.core.VectorClock vc = dev.causalkv.core.VectorClock.of(Map.of("o", n));
                  dev.causalkv.core.Version v = new dev.causalkv.core.Version("k" + n, randomValue(n), new dev.causalkv.core.Dot("o", n), vc, n);
                  dev.causalkv.core.NodeMeta m = new dev.causalkv.core.NodeMeta("o", n, vc, vc,
                      dev.causalkv.core.ViewState.initial(List.of("a:1")));
                  f = s.commit(new dev.causalkv.core.Batch(List.of(new dev.causalkv.core.Batch.KeyChange(v.key(),
                      dev.causalkv.core.Siblings.EMPTY, dev.causalkv.core.Siblings.of(List.of(v)))), m));
                }
                f.join();
                done.incrementAndGet();
              }
            });
            th.start();
            ts.add(th);
          }
          for (Thread th : ts) th.join();
          double c = done.get() / (double) seconds;
          double syncs = mode.equals("batch") ? s.walSyncs() / (double) seconds : mode.equals("always") ? c : 0;
          System.out.printf("%-7s %7d %12.0f %10.0f %10s%n", mode, threads, c, syncs,
              syncs > 0 ? String.format("%.1f", c / syncs) : "-");
        }
      }
    }
  }

  static long du(Path dir) throws Exception {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }
}
