package dev.causalkv.bench;

import java.net.InetSocketAddress;
import java.util.Arrays;

/**
 * Entry point of the benchmark jar.
 *
 * <pre>
 *   suite [--quick] [--repo DIR]      run everything and write BENCHMARKS.md + charts
 *   load  --targets h:p,h:p --mix read95 --conns 32 [--rate R] [--secs S] [--warmup S]
 *         [--keys N] [--value B] [--zipf] [--threads T] [--json]
 *   bare-server PORT                  baseline (a)
 *   hz-member PORT                    one Hazelcast member for baseline (c)
 * </pre>
 */
public final class BenchMain {
  private BenchMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 0) { usage(); return; }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    switch (args[0]) {
      case "bare-server": BareServer.main(rest); Thread.currentThread().join(); break;
      case "hz-member": HazelcastBaseline.member(rest); break;
      case "load": loadCli(rest); break;
      case "suite": Suite.main(rest); break;
      default: usage(); System.exit(2);
    }
  }

  private static void usage() {
    System.err.println("usage: suite [--quick] | load --targets h:p[,h:p] --mix read95|mix50|write|delete|read|load [--conns N] "
        + "[--rate R] [--secs S] [--warmup S] [--keys N] [--value B] [--zipf] [--threads T] [--json] | bare-server PORT | hz-member PORT");
  }

  private static void loadCli(String[] a) throws Exception {
    LoadEngine.Config c = new LoadEngine.Config();
    String mix = "read95";
    long keys = 10_000;
    int value = 100;
    boolean zipf = false;
    boolean json = false;
    for (int i = 0; i < a.length; i++) {
      switch (a[i]) {
        case "--targets":
          for (String t : a[++i].split(",")) {
            String[] hp = t.split(":");
            c.targets.add(new InetSocketAddress(hp[0], Integer.parseInt(hp[1])));
          }
          break;
        case "--mix": mix = a[++i]; break;
        case "--conns": c.connections = Integer.parseInt(a[++i]); break;
        case "--threads": c.threads = Integer.parseInt(a[++i]); break;
        case "--rate": c.ratePerSec = Double.parseDouble(a[++i]); break;
        case "--secs": c.durationMs = (long) (Double.parseDouble(a[++i]) * 1000); break;
        case "--warmup": c.warmupMs = (long) (Double.parseDouble(a[++i]) * 1000); break;
        case "--keys": keys = Long.parseLong(a[++i]); break;
        case "--value": value = Integer.parseInt(a[++i]); break;
        case "--zipf": zipf = true; break;
        case "--json": json = true; break;
        default: throw new IllegalArgumentException("unknown option " + a[i]);
      }
    }
    c.workload = new Workload(mix, zipf, keys, value, "k");
    if (mix.equals("load")) { c.maxOps = keys; c.warmupMs = 0; }
    Result r = new LoadEngine(c).run();
    System.out.println(r.oneLine());
    if (json) System.out.println(r.toJson());
  }
}
