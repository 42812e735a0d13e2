package dev.causalkv.bench.jmh;

import dev.causalkv.core.Dot;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.storage.InMemoryStore;
import dev.causalkv.wire.Json;
import dev.causalkv.wire.PayloadCodec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Hot paths of the replication core, measured in isolation: version merge, covered() (through
 * the core's lock-free read path), payload parse/seal, and building a pull answer. The clock width
 * ({@code origins}) is the number of origins a payload names — one per node that has written.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
public class CoreBench {

  @Param({"3", "10"})
  public int origins;

  private VectorClock wide;
  private VectorClock wide2;
  private Siblings one;
  private Siblings two;
  private Version dominating;
  private Version concurrent;
  private PayloadCodec codec;
  private String payloadText;
  private dev.causalkv.protocol.NodeCore core;
  private InMemoryStore store;
  private dev.causalkv.protocol.Event.ClientOp read;
  private VectorClock readPayload;

  private static String origin(int i) {
    return "10.0.0." + (i + 2) + ":8080#inc" + i;
  }

  @Setup(Level.Trial)
  public void setup() {
    VectorClock a = VectorClock.EMPTY;
    VectorClock b = VectorClock.EMPTY;
    for (int i = 0; i < origins; i++) {
      a = a.with(origin(i), 1000 + i);
      b = b.with(origin(i), 1000 + (i % 2 == 0 ? i + 5 : i - 5));
    }
    wide = a;
    wide2 = b;
    Version base = new Version("key-1", "v0", new Dot(origin(0), 1000), a, 1L);
    one = Siblings.EMPTY.merge(base);
    Version other = new Version("key-1", "v1", new Dot(origin(1), 2000), VectorClock.EMPTY.with(origin(1), 2000), 2L);
    two = one.merge(other);
    dominating = new Version("key-1", "v2", new Dot(origin(0), 5000), a.merge(b).with(origin(0), 5000).with(origin(1), 2000), 3L);
    concurrent = new Version("key-1", "v3", new Dot(origin(2 % origins), 6000), b.with(origin(2 % origins), 6000), 4L);
    codec = new PayloadCodec(dev.causalkv.security.Keyring.inMemory("127.0.0.1:8080"), null);
    payloadText = codec.encode(wide);
    // a replica holding 10k keys, for covered() and pull answers
    List<String> view = new ArrayList<>();
    for (int i = 0; i < origins; i++) view.add("10.0.0." + (i + 2) + ":8080");
    store = InMemoryStore.create();
    core = dev.causalkv.protocol.NodeCore.open(store, dev.causalkv.protocol.NodeCore.Config.defaults(view.get(0), view),
        () -> "bench", null);
    dev.causalkv.driver.NodeLoop loop = new dev.causalkv.driver.NodeLoop(core, store, new dev.causalkv.driver.NodeLoop.Effects() {
      @Override public void deliver(dev.causalkv.protocol.Reply r) {}
      @Override public void send(dev.causalkv.protocol.Send s) {}
      @Override public void cancel(long id) {}
      @Override public void wakeAt(long t) {}
    }, () -> 0L);
    for (int k = 0; k < 10_000; k++) {
      loop.step(new dev.causalkv.protocol.Event.ClientOp(k, dev.causalkv.protocol.Event.Op.PUT, "k" + k,
          "value-of-100-bytes-".repeat(5), VectorClock.EMPTY, k));
    }
    readPayload = VectorClock.EMPTY.with(core.origin(), 5000);
    read = new dev.causalkv.protocol.Event.ClientOp(0, dev.causalkv.protocol.Event.Op.GET, "k1234", null, readPayload, 0);
  }

  @Benchmark
  public Siblings mergeDominating() {
    return two.merge(dominating);
  }

  @Benchmark
  public Siblings mergeConcurrent() {
    return one.merge(concurrent);
  }

  @Benchmark
  public VectorClock vcMerge() {
    return wide.merge(wide2);
  }

  @Benchmark
  public Object vcCompare() {
    return wide.compare(wide2);
  }

  /** covered() and the sibling lookup behind a GET: the core's lock-free read with a payload naming this origin. */
  @Benchmark
  public dev.causalkv.protocol.Reply coveredRead() {
    return core.tryRead(read);
  }

  @Benchmark
  public VectorClock payloadParse() {
    return codec.decode(payloadText);
  }

  /** The token alone: canonical bytes, HMAC seal, base64url. */
  @Benchmark
  public String payloadSealOnly() {
    return codec.encode(wide);
  }

  /** The payload as handed to clients: the token inside an answer's JSON text. */
  @Benchmark
  public String payloadSeal() {
    return Json.toJson(java.util.Map.of("payload", codec.encode(wide)));
  }

  /** A pull answer of 1,000 versions (a puller 1,000 writes behind), encoded as the node streams it. */
  @Benchmark
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public long pullAnswer1k(Blackhole bh) {
    long bytes = 0;
    try (Store.Delta d = store.delta(VectorClock.EMPTY.with(core.origin(), 9_000))) {
      while (d.hasNext()) bytes += dev.causalkv.wire.PullStreamCodec.version(d.next()).length;
    }
    bh.consume(dev.causalkv.wire.PullStreamCodec.end(core.meta().applied(), core.meta().applied(), bytes));
    return bytes;
  }
}
