package dev.causalkv.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Bounded memory: a node whose heap is capped at 256 MB holds a data set several times larger
 * (1 MB values), serves it back, survives kill -9 with it, and a second 256 MB node catches up on
 * all of it by streaming pull. Slow (minutes), so it runs only when asked:
 * {@code mvn -B verify -Dit.test=LargeDataIT -Dckv.large.mb=1500}.
 */
@EnabledIfSystemProperty(named = "ckv.large.mb", matches = "\\d+")
class LargeDataIT {

  static final List<String> JVM = List.of("-Xmx256m", "-XX:+UseSerialGC");
  static final int VALUE_CHARS = 1_000_000;
  static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

  /** A 1 MB value that depends only on i, and does not compress. */
  static String value(int i) {
    SplittableRandom r = new SplittableRandom(i * 7919L + 17);
    char[] c = new char[VALUE_CHARS];
    for (int j = 0; j < c.length; j++) c[j] = ALPHABET.charAt(r.nextInt(ALPHABET.length()));
    return new String(c);
  }

  static long rssKb(long pid) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }
    return -1;
  }

  static void checkSample(NodeProcess n, int count, Random rnd, int samples) throws Exception {
    for (int s = 0; s < samples; s++) {
      int i = rnd.nextInt(count);
      NodeProcess.Reply r = n.get("big" + i, "");
      assertEquals(200, r.status(), n.id + " big" + i);
      assertTrue(value(i).equals(r.json().get("value").getAsString()), n.id + ": big" + i + " differs");
    }
  }

  @Test
  void dataSetLargerThanTheHeap() throws Exception {
    int count = Integer.parseInt(System.getProperty("ckv.large.mb"));
    Path root = Files.createTempDirectory(Path.of("/tmp"), "ckv-durable-large-");
    String idA = NodeProcess.freeId();
    String idB = NodeProcess.freeId();
    List<String> view = List.of(idA, idB);
    NodeProcess a = new NodeProcess(idA, view, root.resolve("a"), Map.of(), JVM).start();
    NodeProcess b = null;
    try {
      long t0 = System.nanoTime();
      AtomicInteger next = new AtomicInteger();
      NodeProcess target = a;
      List<Thread> writers = new ArrayList<>();
      List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
      for (int t = 0; t < 2; t++) {
        Thread th = new Thread(() -> {
          int i;
          while ((i = next.getAndIncrement()) < count) {
            try {
              int st = target.put("big" + i, value(i), "").status();
              if (st != 200) throw new AssertionError("PUT big" + i + " answered " + st);
            } catch (Throwable e) {
              errors.add(e);
              return;
            }
          }
        });
        th.start();
        writers.add(th);
      }
      for (Thread th : writers) th.join();
      assertEquals(List.of(), errors);
      double loadSecs = (System.nanoTime() - t0) / 1e9;
      long disk = DurabilityBench.du(root.resolve("a"));
      System.out.printf("large data: %d x 1 MB values written in %.0f s; data dir %.0f MB; node RSS %d MB (heap cap 256 MB)%n",
          count, loadSecs, disk / 1e6, rssKb(a.pid()) / 1024);
      assertTrue(disk > (long) count * VALUE_CHARS * 9 / 10, "the values are on disk, uncompressed: " + disk);
      Random rnd = new Random(1);
      checkSample(a, count, rnd, 40);

      a.kill9();
      a = new NodeProcess(idA, view, root.resolve("a"), Map.of(), JVM).start();
      checkSample(a, count, rnd, 20);
      assertEquals(count, a.send("GET", "/admin/stats").json().get("keys").getAsLong());

      long c0 = System.nanoTime();
      b = new NodeProcess(idB, view, root.resolve("b"), Map.of(), JVM).start();
      long deadline = System.nanoTime() + 15L * 60 * 1_000_000_000L;
      while (b.send("GET", "/admin/stats").json().get("keys").getAsLong() < count) {
        assertTrue(System.nanoTime() < deadline, "catch-up too slow");
        assertTrue(b.alive(), "the catching-up node died: " + b.log());
        Thread.sleep(500);
      }
      System.out.printf("large data: an empty 256 MB node caught up on %d MB in %.0f s; its RSS %d MB%n",
          count, (System.nanoTime() - c0) / 1e9, rssKb(b.pid()) / 1024);
      checkSample(b, count, rnd, 40);
      assertTrue(a.alive() && b.alive());
      assertTrue(!a.log().contains("OutOfMemoryError") && !b.log().contains("OutOfMemoryError"));
    } finally {
      a.kill9();
      if (b != null) b.kill9();
      try (Stream<Path> s = Files.walk(root)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
