package dev.causalkv.node;

import dev.causalkv.BuildInfo;
import dev.causalkv.core.Replica;
import dev.causalkv.core.Store;
import dev.causalkv.core.ViewState;
import dev.causalkv.driver.Clock;
import dev.causalkv.driver.MeteredStore;
import dev.causalkv.driver.Metrics;
import dev.causalkv.driver.PeerHealth;
import dev.causalkv.driver.Waiters;
import dev.causalkv.http.HttpEdge;
import dev.causalkv.membership.ViewCoordinator;
import dev.causalkv.storage.InMemoryStore;
import dev.causalkv.storage.RocksDbStore;
import java.nio.file.Path;
import dev.causalkv.transport.PeerTransport;
import dev.causalkv.wire.PayloadCodec;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/** The one place that wires a node: store, replica core, waiters, peer transport, membership, HTTP edge. */
public final class Node implements AutoCloseable {

  /** How long view changes wait for acknowledgements, and drains for an answer. */
  static final long VIEW_ACK_MILLIS = 2000;
  static final int MAX_PARKED = 20_000;
  /**
   * RocksDB's block cache, off the heap; memtables are charged to it (up to half), so it bounds
   * the engine's memory for data whatever the data set's size.
   */
  static final long BLOCK_CACHE_BYTES = 128L << 20;
  /** How often stable tombstones are collected, and how many keys at most per step. */
  static final long GC_PERIOD_MILLIS = 1000;
  static final int GC_STEP_KEYS = 1000;

  private static final Logger LOG = Logger.getLogger(Node.class.getName());
  /** How often the node logs a summary of tombstone collection and JVM garbage collection. */
  static final long SUMMARY_PERIOD_MILLIS = 60_000;

  private final Config config;
  private final MeteredStore store;
  private final Replica replica;
  private final ThreadPoolExecutor workers;
  private final ScheduledExecutorService timer;
  private final PeerTransport transport;
  private final HttpEdge edge;
  private final Metrics metrics = new Metrics();
  private final Waiters waiters;
  private final PeerHealth health;
  private final Metrics.Counter tombstonesCollected;
  private final GcSummary gcSummary;

  private Node(Config config, Store engine) {
    this.config = config;
    this.store = new MeteredStore(engine, metrics);
    if (engine instanceof RocksDbStore rocks) rocks.onSync(store::synced);
    this.workers = new ThreadPoolExecutor(config.workerThreads(), config.workerThreads(), 60, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(50_000), daemonThreads("worker"));
    this.timer = Executors.newSingleThreadScheduledExecutor(daemonThreads("timer"));
    this.waiters = new Waiters(timer, workers, MAX_PARKED, metrics);
    AtomicReference<Runnable> onViewChange = new AtomicReference<>(() -> {});
    AtomicReference<ViewState> lastView = new AtomicReference<>();
    this.replica = Replica.open(store, config.nodeId(), config.view(), Node::freshIncarnation, () -> {
      waiters.signal();
      Replica r = replicaOrNull(); // null only while the replica itself is being opened
      if (r != null && lastView.get() != r.view()) {
        ViewState before = lastView.getAndSet(r.view());
        logViewChange(r, before);
        onViewChange.get().run();
      }
    });
    this.health = new PeerHealth(() -> replica.meta().applied(), System::currentTimeMillis, metrics);
    this.transport = new PeerTransport(replica, config.clusterToken(), config.pullHoldMillis(), metrics, health);
    onViewChange.set(transport::reconcile);
    lastView.set(replica.view());
    ViewCoordinator coordinator = new ViewCoordinator(replica, transport, VIEW_ACK_MILLIS);
    PayloadCodec payloads = new PayloadCodec(config.clusterToken());
    Clock clock = Clock.system(config.clockSkewMillis());
    this.edge = new HttpEdge(new HttpEdge.Deps(replica, transport, coordinator, payloads, waiters, workers, clock,
        metrics, config.clusterToken(), config.causalWaitMillis(), VIEW_ACK_MILLIS,
        !"always".equals(config.sync()) || config.inMemory(), health), config.bind(), config.port());
    this.tombstonesCollected = metrics.counter("causalkv_tombstones_collected_total",
        "Tombstoned keys dropped by tombstone collection once every member had applied them");
    metrics.gauge("causalkv_keys", "Keys held, tombstoned keys included (may be an estimate for the durable engine)",
        () -> replica.keyCount());
    metrics.gauge("causalkv_own_writes", "Writes this node's current origin has made (its sequence number)",
        () -> replica.meta().ownSeq());
    metrics.gauges("causalkv_build_info", "Always 1; the label carries the version", "version",
        () -> Map.of(BuildInfo.version(), 1));
    this.gcSummary = new GcSummary(store);
  }

  /** One line per view change: who joined, who left, and whether this node itself was removed. */
  private static void logViewChange(Replica r, ViewState before) {
    List<String> now = r.members();
    List<String> was = before == null ? List.of() : before.members();
    List<String> added = new ArrayList<>(now);
    added.removeAll(was);
    List<String> removed = new ArrayList<>(was);
    removed.removeAll(now);
    if (r.isRemovedSelf()) {
      LOG.warning(() -> "view: this node was removed from the view; it now serves alone (view " + r.nodeId() + ")");
    } else if (!added.isEmpty() || !removed.isEmpty()) {
      LOG.info(() -> "view changed: " + (added.isEmpty() ? "" : "added " + String.join(",", added) + "; ")
          + (removed.isEmpty() ? "" : "removed " + String.join(",", removed) + "; ") + "now " + String.join(",", now));
    }
  }

  private Replica replicaOrNull() {
    return replica;
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
    transport.reconcile();
    timer.scheduleWithFixedDelay(this::collectGarbage, GC_PERIOD_MILLIS, GC_PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    timer.scheduleWithFixedDelay(gcSummary::log, SUMMARY_PERIOD_MILLIS, SUMMARY_PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    Thread count = new Thread(store::countExisting, "count-keys");
    count.setDaemon(true);
    count.setPriority(Thread.MIN_PRIORITY);
    count.start();
    return this;
  }

  /** One timer tick of tombstone collection, run on a worker so the timer never blocks on disk. */
  private void collectGarbage() {
    try {
      workers.execute(() -> {
        try {
          int n = replica.collectGarbage(GC_STEP_KEYS);
          if (n > 0) {
            metrics.add("gc.keys_dropped", n);
            tombstonesCollected.add(n);
            gcSummary.dropped(n);
          }
        } catch (RuntimeException e) {
          metrics.inc("gc.failed");
          LOG.log(Level.WARNING, "tombstone collection failed: " + e.getMessage());
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException busy) {
      // overloaded or closing: try again next tick
    }
  }

  public int port() {
    return edge.port();
  }

  public Replica replica() {
    return replica;
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

  public Config config() {
    return config;
  }

  @Override
  public void close() {
    // Parked reads get their definite answer (as at their deadline) before the server stops.
    waiters.expireAll();
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
