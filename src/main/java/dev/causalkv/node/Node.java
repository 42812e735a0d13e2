package dev.causalkv.node;

import dev.causalkv.BuildInfo;
import dev.causalkv.core.Store;
import dev.causalkv.core.ViewState;
import dev.causalkv.driver.Clock;
import dev.causalkv.driver.CoreMetrics;
import dev.causalkv.driver.MeteredStore;
import dev.causalkv.driver.Metrics;
import dev.causalkv.driver.NodeLoop;
import dev.causalkv.driver.Readiness;
import dev.causalkv.driver.PeerHealth;
import dev.causalkv.driver.Requests;
import dev.causalkv.http.HttpEdge;
import dev.causalkv.protocol.Event;
import dev.causalkv.protocol.NodeCore;
import dev.causalkv.protocol.Reply;
import dev.causalkv.protocol.Send;
import dev.causalkv.storage.InMemoryStore;
import dev.causalkv.storage.rocksdb.RocksDbStore;
import dev.causalkv.transport.PeerTransport;
import dev.causalkv.security.HostResolver;
import dev.causalkv.security.Keyring;
import dev.causalkv.security.PeerGate;
import dev.causalkv.security.PeerNonces;
import dev.causalkv.wire.PayloadCodec;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/** The one place that wires a node: store, protocol core and its loop, peer transport, HTTP edge, logs and metrics. */
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
  /** How often the node logs a summary of tombstone collection and JVM garbage collection. */
  static final long SUMMARY_PERIOD_MILLIS = 60_000;

  private static final Logger LOG = Logger.getLogger(Node.class.getName());

  private final Config config;
  private final MeteredStore store;
  private final NodeCore core;
  private final NodeLoop loop;
  private final Requests requests = new Requests();
  private final ThreadPoolExecutor workers;
  private final ScheduledExecutorService timer;
  private final PeerTransport transport;
  private final HttpEdge edge;
  private final Metrics metrics = new Metrics();
  private final Readiness readiness;
  private final Keyring keyring;
  private final PayloadCodec payloads;
  private final PeerHealth health;
  private final GcSummary gcSummary;
  /** The view last logged, and whether the storage failure was; touched only under the loop's lock. */
  private ViewState loggedView;
  private boolean failureLogged;

  private Node(Config config, Store engine) {
    this.config = config;
    this.store = new MeteredStore(engine, metrics);
    if (engine instanceof RocksDbStore rocks) rocks.onSync(store::synced);
    this.gcSummary = new GcSummary(store);
    this.workers = new ThreadPoolExecutor(config.workerThreads(), config.workerThreads(), 60, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(WORK_QUEUE), daemonThreads("worker"));
    this.timer = Executors.newSingleThreadScheduledExecutor(daemonThreads("timer"));
    NodeCore.Config cc = new NodeCore.Config(config.nodeId(), config.view(), config.causalWaitMillis(),
        config.pullHoldMillis(), VIEW_ACK_MILLIS, config.maxWaitingReads(), GC_PERIOD_MILLIS, GC_STEP_KEYS, new SecureRandom().nextLong(),
        java.util.Set.of()).withCausalOff(config.causalOff());
    if (config.causalOff()) {
      System.err.println("WARNING: CAUSAL=off: a benchmark baseline only; reads never wait and causal consistency is NOT kept");
    }
    this.core = NodeCore.open(store, cc, Node::freshIncarnation, new CoreMetrics(metrics, gcSummary::dropped));
    this.health = new PeerHealth(() -> core.meta().applied(), Node::monotonicMillis, metrics);
    this.keyring = keyring(config);
    PeerNonces nonces = PeerNonces.system();
    this.transport = new PeerTransport(config.clusterToken(), config.pullHoldMillis(), metrics,
        new PeerTransport.Trust(config.nodeId(), nonces, keyring, () -> core.meta().view().maxCounter(), sourceAddress(config)));
    this.loggedView = core.meta().view();
    this.loop = new NodeLoop(core, store, new Effects(), Node::monotonicMillis, this::stepped);
    transport.attach(loop::step);
    this.payloads = new PayloadCodec(keyring, config.clusterToken());
    PeerGate gate = new PeerGate(HostResolver.system(), transport::confirm, workers, config.adminFrom());
    Clock clock = Clock.system(config.clockSkewMillis());
    boolean commitsBlock = "always".equals(config.sync()) && !config.inMemory();
    this.readiness = new Readiness(core::notReady);
    this.edge = new HttpEdge(new HttpEdge.Deps(loop, requests, payloads, workers, clock, metrics, config.clusterToken(),
        commitsBlock, readiness, health, new HttpEdge.Trust(gate, nonces, timer, config.causalWaitMillis())), config.bind(), config.port());
    metrics.gauge("causalkv_keys", "Keys held, tombstoned keys included (may be an estimate for the durable engine)",
        core::keyCount);
    metrics.gauge("causalkv_own_writes", "Writes this node's current origin has made (its sequence number)",
        () -> core.meta().ownSeq());
    metrics.gauges("causalkv_parked_requests", "Requests parked right now: reads waiting for their payload, peers' pulls held",
        "kind", () -> Map.of("read", core.parkedCount(), "pull", core.heldPullCount()));
    metrics.gauges("causalkv_build_info", "Always 1; the label carries the version", "version",
        () -> Map.of(BuildInfo.version(), 1));
  }

  /**
   * The payload seal keys (docs/threat-model.md): derived from {@code CLUSTER_TOKEN} when set;
   * else this node's own random key, kept owner-only in its data directory with the keys learnt
   * from members (a fresh key per process with {@code DATA_DIR=:memory:}).
   */
  static Keyring keyring(Config config) {
    if (config.clusterToken() != null) return Keyring.shared(config.clusterToken());
    if (config.inMemory()) return Keyring.inMemory(config.nodeId());
    return Keyring.open(Path.of(config.dataDir()), config.nodeId());
  }

  /** Where peer calls leave from: {@code BIND} when it names one address (peers then see the address they check), else the system's choice. */
  static InetAddress sourceAddress(Config config) {
    try {
      InetAddress a = InetAddress.getByName(config.bind());
      return a.isAnyLocalAddress() ? null : a;
    } catch (UnknownHostException e) {
      return null;
    }
  }

  /**
   * After every step, under the loop's lock: the peers' snapshot to {@link PeerHealth} (links up
   * and down, lag, pull counts), and a log line when the published view changed or storage failed.
   * Logging must never break a step.
   */
  private void stepped(NodeCore c, long nowMillis) {
    try {
      health.observe(c.peers(), nowMillis);
      ViewState v = c.meta().view();
      if (v != loggedView) { // the same object unless a step changed the metadata's view: cheap on every step
        ViewState before = loggedView;
        loggedView = v;
        if (!v.equals(before)) logViewChange(before, v);
      }
      if (c.isFailed() && !failureLogged) {
        failureLogged = true;
        LOG.severe(() -> c.notReady() + "; answering 503");
      }
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "logging a step failed", e);
    }
  }

  /** One line per view change: who joined, who left, and whether this node itself was removed. */
  private void logViewChange(ViewState before, ViewState now) {
    String self = config.nodeId();
    List<String> is = now.members();
    List<String> was = before.members();
    List<String> added = new ArrayList<>(is);
    added.removeAll(was);
    List<String> removed = new ArrayList<>(was);
    removed.removeAll(is);
    if (now.isRemoved(self) && !before.isRemoved(self)) {
      LOG.warning(() -> "view: this node was removed from the view; it answers reads alone and refuses writes (view " + self + ")");
    } else if (!added.isEmpty() || !removed.isEmpty()) {
      LOG.info(() -> "view changed: " + (added.isEmpty() ? "" : "added " + String.join(",", added) + "; ")
          + (removed.isEmpty() ? "" : "removed " + String.join(",", removed) + "; ") + "now " + String.join(",", is));
    }
  }

  /** The node's effects in production: replies to HTTP exchanges, sends over OkHttp, ticks on a timer. */
  private final class Effects implements NodeLoop.Effects {
    @Override
    public void deliver(Reply reply) {
      if (reply instanceof Reply.ViewChange v && v.warning() != null) LOG.warning(() -> "view change: " + v.warning());
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
    timer.scheduleWithFixedDelay(gcSummary::log, SUMMARY_PERIOD_MILLIS, SUMMARY_PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    Thread count = new Thread(store::countExisting, "count-keys"); // sibling and tombstone counts: one scan, off the request path
    count.setDaemon(true);
    count.setPriority(Thread.MIN_PRIORITY);
    count.start();
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

  public PeerHealth health() {
    return health;
  }

  public PeerTransport transport() {
    return transport;
  }

  /** The payload codec this node seals and checks with (tests make tokens it accepts through it). */
  public PayloadCodec payloads() {
    return payloads;
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
