package dev.causalkv.sim;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The fake network between nodes: loses, duplicates, delays (hence reorders) single messages,
 * breaks streamed answers off half way, and cuts links to form partitions: halves, an isolated
 * node, or a partial cut (A–C cut while both reach B).
 *
 * <p>Links are symmetric. A cut is checked both when a message is sent and when it would arrive.
 * Frames of one stream arrive in order (it models one TCP connection), but may stop anywhere.
 */
final class SimNetwork {

  private final EventLoop loop;
  private final SplittableRandom rnd;
  private final SimConfig cfg;
  private final Set<String> cutLinks = new HashSet<>();
  private boolean faulty = true;
  private String partitionName = "none";
  long sent;
  long lost;
  long duplicated;
  long broken;

  SimNetwork(EventLoop loop, SplittableRandom rnd, SimConfig cfg) {
    this.loop = loop;
    this.rnd = rnd;
    this.cfg = cfg;
  }

  private static String link(String a, String b) {
    return a.compareTo(b) < 0 ? a + "|" + b : b + "|" + a;
  }

  boolean connected(String a, String b) {
    return a.equals(b) || !cutLinks.contains(link(a, b));
  }

  String partitionName() {
    return partitionName;
  }

  /** Heals every partition and turns message faults off, so the cluster can converge. */
  void heal() {
    faulty = false;
    cutLinks.clear();
    partitionName = "healed";
  }

  /** Picks a new random partition shape over {@code nodes}. */
  void repartition(List<String> nodes) {
    cutLinks.clear();
    int shape = rnd.nextInt(5);
    int n = nodes.size();
    switch (shape) {
      case 0 -> partitionName = "none";
      case 1 -> { // two halves
        List<String> a = new ArrayList<>();
        for (String x : nodes) if (rnd.nextBoolean()) a.add(x);
        if (a.isEmpty() || a.size() == n) a = List.of(nodes.get(rnd.nextInt(n)));
        for (String x : a) for (String y : nodes) if (!a.contains(y)) cutLinks.add(link(x, y));
        partitionName = "halves " + a;
      }
      case 2 -> { // one node isolated
        String x = nodes.get(rnd.nextInt(n));
        for (String y : nodes) if (!y.equals(x)) cutLinks.add(link(x, y));
        partitionName = "isolated " + x;
      }
      default -> { // partial: A–C cut, both still reach the others
        String x = nodes.get(rnd.nextInt(n));
        String y = nodes.get(rnd.nextInt(n));
        if (x.equals(y)) y = nodes.get((nodes.indexOf(x) + 1) % n);
        cutLinks.add(link(x, y));
        partitionName = "partial " + x + "-/-" + y;
      }
    }
  }

  private long delay() {
    long d = cfg.minDelayMillis() + rnd.nextLong(cfg.maxDelayMillis() - cfg.minDelayMillis() + 1);
    if (faulty && rnd.nextDouble() < cfg.slowRate()) d += rnd.nextLong(cfg.slowDelayMillis() + 1);
    return d;
  }

  /** One message: may be lost, duplicated and delayed; never delivered across a cut. */
  void send(String from, String to, Runnable deliver) {
    sent++;
    if (!connected(from, to) || (faulty && rnd.nextDouble() < cfg.lossRate())) {
      lost++;
      return;
    }
    int copies = faulty && rnd.nextDouble() < cfg.duplicateRate() ? 2 : 1;
    if (copies == 2) duplicated++;
    for (int i = 0; i < copies; i++) {
      loop.after(delay(), () -> {
        if (connected(from, to)) deliver.run();
        else lost++;
      });
    }
  }

  /**
   * A streamed answer: frames arrive in order; the stream may break off before any frame (a
   * truncation, a cut link, or a lost packet), after which {@code onBroken} is delivered if the
   * connection reset reaches the receiver, or nothing (the receiver's timeout notices).
   */
  void stream(String from, String to, List<Runnable> frames, Runnable onBroken) {
    sent++;
    int cutAt = frames.size();
    if (faulty && rnd.nextDouble() < cfg.truncateRate()) cutAt = rnd.nextInt(frames.size());
    boolean[] dead = new boolean[1];
    long t = loop.nowMillis();
    for (int i = 0; i <= Math.min(cutAt, frames.size() - 1); i++) {
      t = Math.max(t, loop.nowMillis() + delay());
      final int idx = i;
      final boolean truncatedHere = idx == cutAt;
      loop.at(t, () -> {
        if (dead[0]) return;
        boolean lostHere = faulty && rnd.nextDouble() < cfg.lossRate() / 4;
        if (truncatedHere || lostHere || !connected(from, to)) {
          dead[0] = true;
          broken++;
          if (connected(from, to) && rnd.nextBoolean()) onBroken.run();
          return;
        }
        frames.get(idx).run();
      });
    }
  }
}
