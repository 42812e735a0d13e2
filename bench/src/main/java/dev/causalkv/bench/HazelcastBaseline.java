package dev.causalkv.bench;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.replicatedmap.ReplicatedMap;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;

/**
 * Baseline (c): Hazelcast ReplicatedMap — every member holds every entry, like our store —
 * with members as separate JVMs on loopback, driven through the Hazelcast Java client by
 * closed-loop client threads running the same operation mix and key distribution.
 */
final class HazelcastBaseline {
  static final String CLUSTER = "ckvbench";
  static final int BASE_PORT = 15701;

  private HazelcastBaseline() {}

  /** Runs one member in this JVM until killed. Args: memberIndex memberCount. */
  static void member(String[] a) throws InterruptedException {
    int idx = Integer.parseInt(a[0]);
    int count = Integer.parseInt(a[1]);
    System.setProperty("hazelcast.phone.home.enabled", "false");
    System.setProperty("hazelcast.logging.type", "jdk");
    Config c = new Config();
    c.setClusterName(CLUSTER);
    c.getNetworkConfig().setPort(BASE_PORT + idx).setPortAutoIncrement(false);
    c.getNetworkConfig().getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    JoinConfig j = c.getNetworkConfig().getJoin();
    j.getMulticastConfig().setEnabled(false);
    j.getAutoDetectionConfig().setEnabled(false);
    j.getTcpIpConfig().setEnabled(true);
    for (int i = 0; i < count; i++) j.getTcpIpConfig().addMember("127.0.0.1:" + (BASE_PORT + i));
    c.getJetConfig().setEnabled(false);
    Hazelcast.newHazelcastInstance(c);
    Thread.currentThread().join();
  }

  static HazelcastInstance client(int members) {
    System.setProperty("hazelcast.phone.home.enabled", "false");
    System.setProperty("hazelcast.logging.type", "none");
    ClientConfig cc = new ClientConfig();
    cc.setClusterName(CLUSTER);
    for (int i = 0; i < members; i++) cc.getNetworkConfig().addAddress("127.0.0.1:" + (BASE_PORT + i));
    return HazelcastClient.newHazelcastClient(cc);
  }

  /** Closed-loop run of the workload with `threads` synchronous clients. */
  static Result run(HazelcastInstance hz, String label, Workload wl, int threads, long warmupMs, long durationMs) throws Exception {
    return run(hz, label, wl, threads, warmupMs, durationMs, null, null);
  }

  /** As above, running {@code onStart}/{@code onEnd} (meters) when the measured window opens and closes. */
  static Result run(HazelcastInstance hz, String label, Workload wl, int threads, long warmupMs, long durationMs,
      Runnable onStart, Runnable onEnd) throws Exception {
    java.util.concurrent.atomic.LongAdder allOps = new java.util.concurrent.atomic.LongAdder();
    ReplicatedMap<String, String> map = hz.getReplicatedMap("bench");
    long start = System.nanoTime();
    long warmEnd = start + warmupMs * 1_000_000L;
    long end = warmEnd + durationMs * 1_000_000L;
    List<Thread> ts = new ArrayList<>();
    List<Histogram[]> hs = new ArrayList<>();
    List<long[]> oks = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Histogram[] h = new Histogram[Workload.Op.values().length];
      for (int i = 0; i < h.length; i++) h[i] = new Histogram(60_000_000L, 3);
      long[] ok = new long[h.length];
      hs.add(h);
      oks.add(ok);
      final int seed = t;
      Thread th = new Thread(() -> {
        SplittableRandom r = new SplittableRandom(1000 + seed);
        Workload.KeyChooser ch = wl.chooser();
        byte[] vc = new byte[wl.valueBytes + 4096];
        for (int i = 0; i < vc.length; i++) vc[i] = Http1.VALUE_CHARS[r.nextInt(Http1.VALUE_CHARS.length)];
        long seq = seed;
        while (true) {
          long now = System.nanoTime();
          if (now >= end) break;
          Workload.Op op = wl.pick(r);
          String key = wl.keyPrefix + (wl.sequential ? (seq += threads) % wl.keys : ch.next(r));
          boolean hit = true;
          switch (op) {
            case PUT: map.put(key, new String(vc, r.nextInt(4096), wl.valueBytes, java.nio.charset.StandardCharsets.US_ASCII)); break;
            case DELETE: hit = map.remove(key) != null; break;
            case SEARCH: map.containsKey(key); break;
            default: hit = map.get(key) != null;
          }
          long done = System.nanoTime();
          allOps.increment();
          if (now >= warmEnd) {
            h[op.ordinal()].recordValue(Math.min(60_000_000L, Math.max(1, (done - now) / 1000)));
            if (hit) ok[op.ordinal()]++;
          }
        }
      }, "hz-" + t);
      th.setDaemon(true);
      ts.add(th);
    }
    ts.forEach(Thread::start);
    sleepUntil(warmEnd);
    if (onStart != null) onStart.run();
    sleepUntil(end);
    if (onEnd != null) onEnd.run();
    for (Thread t : ts) t.join();
    Result res = new Result(label);
    res.connections = threads;
    res.workload = wl.describe();
    res.seconds = durationMs / 1000.0;
    res.totalOps = allOps.sum();
    for (int t = 0; t < threads; t++) {
      for (Workload.Op op : Workload.Op.values()) res.add(op, hs.get(t)[op.ordinal()], oks.get(t)[op.ordinal()]);
    }
    return res;
  }

  private static void sleepUntil(long nanos) throws InterruptedException {
    long ms = (nanos - System.nanoTime()) / 1_000_000L;
    if (ms > 0) Thread.sleep(ms);
  }

  /** Fills the map with every key once (so reads hit). */
  static void preload(HazelcastInstance hz, Workload wl) {
    ReplicatedMap<String, String> map = hz.getReplicatedMap("bench");
    java.util.Map<String, String> batch = new java.util.HashMap<>();
    String v = "x".repeat(wl.valueBytes);
    for (long i = 0; i < wl.keys; i++) {
      batch.put(wl.keyPrefix + i, v);
      if (batch.size() == 1000) { map.putAll(batch); batch.clear(); }
    }
    if (!batch.isEmpty()) map.putAll(batch);
  }
}
