package dev.causalkv.node;

import dev.causalkv.core.Store;
import dev.causalkv.driver.Clock;
import dev.causalkv.driver.Metrics;
import dev.causalkv.driver.NodeLoop;
import dev.causalkv.driver.Readiness;
import dev.causalkv.driver.Requests;
import dev.causalkv.http.HttpEdge;
import dev.causalkv.protocol.Event;
import dev.causalkv.protocol.NodeCore;
import dev.causalkv.protocol.Reply;
import dev.causalkv.protocol.Send;
import dev.causalkv.storage.InMemoryStore;
import dev.causalkv.storage.rocksdb.RocksDbStore;
import dev.causalkv.transport.PeerTransport;
import dev.causalkv.wire.PayloadCodec;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** The one place that wires a node: store, replica core, waiters, peer transport, membership, HTTP edge. */
public final class Node implements AutoCloseable {

  /** How long view changes wait for acknowledgements, and drains for an answer. */
  static final long VIEW_ACK_MILLIS = 2000;
  /**
   * RocksDB's block cache, off the heap; memtables are charged to it (up to half), so it bounds
   * the engine's memory for data whatever the data set's size.
   */
  static final long BLOCK_CACHE_BYTES = 128L << 20;
  /** How often stable tombstones are collected, and how many keys at most per step. */
  static final long GC_PERIOD_MILLIS = 1000;
  static final int GC_STEP_KEYS = 1000;
  /** Streamed pull answers and admin scans waiting for a worker, at most; past it they are shed with a 503. */
  static final int WORK_QUEUE = 10_000;

  private final Config config;
  private final Store store;
  private final NodeCore core;
  private final NodeLoop loop;
  private final Requests requests = new Requests();
  private final ThreadPoolExecutor workers;
  private final ScheduledExecutorService timer;
  private final PeerTransport transport;
  private final HttpEdge edge;
  private final Metrics metrics = new Metrics();
  private final Readiness readiness;

  private Node(Config config, Store store) {
    this.config = config;
    this.store = store;
    this.workers = new ThreadPoolExecutor(config.workerThreads(), config.workerThreads(), 60, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(WORK_QUEUE), daemonThreads("worker"));
    this.timer = Executors.newSingleThreadScheduledExecutor(daemonThreads("timer"));
    NodeCore.Config cc = new NodeCore.Config(config.nodeId(), config.view(), config.causalWaitMillis(),
        config.pullHoldMillis(), VIEW_ACK_MILLIS, config.maxWaitingReads(), GC_PERIOD_MILLIS, GC_STEP_KEYS, new SecureRandom().nextLong(),
        java.util.Set.of()).withCausalOff(config.causalOff());
    if (config.causalOff()) {
      System.err.println("WARNING: CAUSAL=off: a benchmark baseline only; reads never wait and causal consistency is NOT kept");
    }
    this.core = NodeCore.open(store, cc, Node::freshIncarnation, metrics::add);
    this.transport = new PeerTransport(config.clusterToken(), config.pullHoldMillis(), metrics);
    this.loop = new NodeLoop(core, store, new Effects(), Node::monotonicMillis);
    transport.attach(loop::step);
    PayloadCodec payloads = new PayloadCodec(config.clusterToken());
    Clock clock = Clock.system(config.clockSkewMillis());
    boolean commitsBlock = "always".equals(config.sync()) && !config.inMemory();
    this.readiness = new Readiness(core::notReady);
    this.edge = new HttpEdge(new HttpEdge.Deps(loop, requests, payloads, workers, clock, metrics, config.clusterToken(),
        commitsBlock, readiness), config.bind(), config.port());
  }

  /** The node's effects in production: replies to HTTP exchanges, sends over OkHttp, ticks on a timer. */
  private final class Effects implements NodeLoop.Effects {
    @Override
    public void deliver(Reply reply) {
      requests.deliver(reply);
    }

    @Override
    public void send(Send message) {
      transport.send(message);
    }

    @Override
    public void cancel(long pullId) {
      transport.cancel(pullId);
    }

    @Override
    public void wakeAt(long atMillis) {
      long delay = Math.max(0, atMillis - monotonicMillis());
      try {
        timer.schedule(() -> loop.step(new Event.Tick()), delay, TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException closing) {
        // shutting down
      }
    }
  }

  static long monotonicMillis() {
    return System.nanoTime() / 1_000_000;
  }

  /** Builds the node from {@code config}: opens its store and recovers its state; nothing listens yet. */
  public static Node create(Config config) {
    Store store = openStore(config);
    try {
      return new Node(config, store);
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
  }

  /**
   * The engine at {@code DATA_DIR}: RocksDB with the {@code SYNC} mode, or the in-memory engine for
   * {@code DATA_DIR=:memory:}. Throws with a one-line reason when the directory cannot be used.
   */
  static Store openStore(Config config) {
    if (config.inMemory()) return InMemoryStore.create();
    return RocksDbStore.open(Path.of(config.dataDir()), RocksDbStore.SyncMode.parse(config.sync()), BLOCK_CACHE_BYTES);
  }

  public Node start() {
    edge.start();
    loop.step(new Event.Tick()); // starts the pullers and the garbage-collection timer
    return this;
  }

  public int port() {
    return edge.port();
  }

  public NodeCore core() {
    return core;
  }

  public Metrics metrics() {
    return metrics;
  }

  public PeerTransport transport() {
    return transport;
  }

  public Config config() {
    return config;
  }

  @Override
  public void close() {
    readiness.drain(); // GET /ready answers 503 from here on
    // Parked reads get their definite answer (as at their deadline) before the server stops.
    loop.step(new Event.Shutdown());
    try {
      Thread.sleep(100); // let those answers reach the wire
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    edge.close();
    transport.close();
    workers.shutdownNow();
    timer.shutdownNow();
    store.close();
  }

  /** A random incarnation suffix for a fresh origin: time-ordered and unique across restarts. */
  static String freshIncarnation() {
    SecureRandom r = new SecureRandom();
    return Long.toString(System.currentTimeMillis(), 36) + Integer.toString(r.nextInt(36 * 36 * 36), 36);
  }

  private static java.util.concurrent.ThreadFactory daemonThreads(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
