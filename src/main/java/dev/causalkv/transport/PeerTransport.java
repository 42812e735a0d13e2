package dev.causalkv.transport;

import com.google.gson.JsonObject;
import dev.causalkv.core.ForwardWatch;
import dev.causalkv.core.PeerLink;
import dev.causalkv.core.Replica;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.core.ViewState;
import dev.causalkv.driver.Metrics;
import dev.causalkv.driver.PeerHealth;
import dev.causalkv.wire.Json;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.BufferedSource;

/**
 * The peer transport over OkHttp: one long-poll puller per peer (DESIGN.md §5), view pushes and
 * drains for membership changes. Everything it receives goes into the replica through its merge
 * methods; nothing here decides what is consistent.
 */
public final class PeerTransport implements PeerLink, AutoCloseable {

  private static final Logger LOG = Logger.getLogger(PeerTransport.class.getName());
  private static final MediaType JSON = MediaType.get("application/json");
  /** Versions merged per batch while streaming an answer: bounds memory and lock hold time. */
  private static final int MERGE_CHUNK = 512;
  /** ... and at most this many characters of them, so that large values keep the heap bounded. */
  private static final long MERGE_CHUNK_BYTES = 8L << 20;

  private final Replica replica;
  private final String token;
  private final long holdMillis;
  private final Metrics metrics;
  private final PeerHealth health;
  private final OkHttpClient pullClient;
  private final OkHttpClient shortClient;
  /**
   * For own-origin pulls, which are held briefly: a connection that went silent (a partition
   * that drops packets) is given up after seconds, not after the long-poll read timeout.
   */
  private final OkHttpClient ownClient;
  private final Map<String, Puller> pullers = new HashMap<>();
  /**
   * One immediate complete pull at a time: a node catching up (joining, restarting) then gets the
   * bulk of the data from one peer, and the next peer's delta is taken against what it already
   * has, instead of every peer streaming the whole store at once.
   */
  private final java.util.concurrent.Semaphore catchUp = new java.util.concurrent.Semaphore(1);
  /** A peer that has not started answering a catch-up pull this soon gives the turn to the next one. */
  private static final long CATCH_UP_TURN_MILLIS = 250;
  private final java.util.concurrent.ScheduledExecutorService turnTimer =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "catch-up-turns");
        t.setDaemon(true);
        return t;
      });
  private volatile boolean closed;
  /** Peers cut off by fault injection: calls to them fail at once, as on a partitioned network. */
  private volatile java.util.Set<String> unreachable = java.util.Set.of();

  public PeerTransport(Replica replica, String token, long holdMillis, Metrics metrics) {
    this(replica, token, holdMillis, metrics, PeerHealth.detached());
  }

  /** As above, reporting every pull's outcome to {@code health} (links, lag, catch-up progress). */
  public PeerTransport(Replica replica, String token, long holdMillis, Metrics metrics, PeerHealth health) {
    this.replica = replica;
    this.token = token;
    this.holdMillis = holdMillis;
    this.metrics = metrics;
    this.health = health;
    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequestsPerHost(16);
    this.pullClient = new OkHttpClient.Builder()
        .dispatcher(dispatcher)
        .addInterceptor(chain -> {
          okhttp3.HttpUrl u = chain.request().url();
          if (unreachable.contains(u.host() + ":" + u.port())) throw new IOException("partitioned (fault injection)");
          return chain.proceed(chain.request());
        })
        .connectionPool(new ConnectionPool(32, 5, TimeUnit.MINUTES))
        // The kernel completes a handshake without the peer's application, so even a busy peer
        // connects in milliseconds; a connect still pending after this is a partition (SYNs dropped),
        // and retrying soon, rather than waiting out SYN retransmissions, shortens recovery after a heal.
        .connectTimeout(Duration.ofMillis(500))
        .readTimeout(Duration.ofMillis(holdMillis + 3_000)) // a held pull answers within its hold; silence past it means a dead link
        .writeTimeout(Duration.ofSeconds(10))
        .retryOnConnectionFailure(false)
        .build();
    this.ownClient = pullClient.newBuilder()
        .readTimeout(Duration.ofMillis(Puller.OWN_HOLD_MILLIS + 2000))
        .build();
    this.shortClient = pullClient.newBuilder()
        .connectTimeout(Duration.ofMillis(500))
        .readTimeout(Duration.ofSeconds(2))
        .callTimeout(Duration.ofSeconds(3))
        .build();
  }

  /** Starts a puller for every peer in the view and stops those of peers no longer in it. */
  public synchronized void reconcile() {
    if (closed) return;
    List<String> peers = replica.peers();
    for (String p : new HashSet<>(pullers.keySet())) {
      if (!peers.contains(p)) {
        pullers.remove(p).stop();
        health.forget(p);
      }
    }
    for (String p : peers) {
      Puller existing = pullers.get(p);
      if (existing == null) {
        Puller puller = new Puller(p);
        pullers.put(p, puller);
        puller.start();
      } else {
        existing.wake(); // a view change may make a refusing peer accept us now
      }
    }
  }

  /**
   * Fault-injection seam for in-process tests: from now on every call to one of {@code peers}
   * fails at once and calls in flight to them are cut, as if the network between dropped packets.
   */
  public synchronized void setUnreachable(java.util.Set<String> peers) {
    this.unreachable = java.util.Set.copyOf(peers);
    for (Map.Entry<String, Puller> e : pullers.entrySet()) {
      if (unreachable.contains(e.getKey())) e.getValue().cancelCurrent();
      else e.getValue().wake();
    }
  }

  // ---------------------------------------------------------------- one pull

  /** How a pull ended. */
  enum PullResult { COMPLETE, REFUSED, FAILED }

  /** A pull's result and, for a complete answer, the peer's whole applied VC at answer time. */
  record Outcome(PullResult result, VectorClock peerApplied, VectorClock marks) {
    static final Outcome REFUSED = new Outcome(PullResult.REFUSED, null, null);
    static final Outcome FAILED = new Outcome(PullResult.FAILED, null, null);
  }

  private Request pullRequest(String peer, long waitMillis, boolean ownOnly) throws IOException {
    VectorClock applied = replica.meta().applied();
    // Report only what is durable: the peer may garbage-collect tombstones on the strength of it.
    try {
      replica.durable().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IOException("local store not durable: " + e, e);
    }
    JsonObject body = new JsonObject();
    body.addProperty("from", replica.nodeId());
    body.add("applied", Json.encode(applied));
    body.add("seen", Json.encode(replica.seen()));
    body.add("view", Json.encode(replica.view()));
    body.addProperty("waitMs", waitMillis);
    body.addProperty("mode", ownOnly ? "own" : "all");
    Request.Builder b = new Request.Builder()
        .url("http://" + peer + "/internal/pull")
        .post(RequestBody.create(body.toString(), JSON));
    if (token != null) b.header("X-Cluster-Token", token);
    return b.build();
  }

  /**
   * Executes one pull and merges the answer as it streams in. Marks are raised only after the
   * terminating line, so an answer that breaks off raises nothing (DESIGN.md §5).
   */
  Outcome pullOnce(OkHttpClient client, String peer, long waitMillis, Call[] current, boolean ownOnly) {
    return pullOnce(client, peer, waitMillis, current, ownOnly, () -> {});
  }

  /** As above; {@code onAnswer} runs once the peer has started answering (status line received). */
  Outcome pullOnce(OkHttpClient client, String peer, long waitMillis, Call[] current, boolean ownOnly, Runnable onAnswer) {
    Call call;
    try {
      call = client.newCall(pullRequest(peer, waitMillis, ownOnly));
    } catch (IOException e) {
      metrics.inc("pull.failed");
      return Outcome.FAILED;
    }
    if (current != null) current[0] = call;
    try (Response resp = call.execute()) {
      onAnswer.run();
      ResponseBody body = resp.body();
      if (resp.code() == 403 && body != null) {
        JsonObject o = Json.object(body.string());
        if (o.has("view")) replica.mergeView(Json.decodeView(o.get("view")));
        return Outcome.REFUSED;
      }
      if (resp.code() != 200 || body == null) {
        metrics.inc("pull.failed");
        return Outcome.FAILED;
      }
      BufferedSource src = body.source();
      List<Version> chunk = new ArrayList<>();
      long chunkBytes = 0;
      long bytes = 0;
      long versions = 0;
      String line;
      while ((line = src.readUtf8Line()) != null) {
        bytes += line.length() + 1;
        JsonObject o = Json.object(line);
        if (o.has("ver")) {
          chunk.add(Json.decodeVersion(o.getAsJsonObject("ver")));
          chunkBytes += line.length();
          versions++;
          if (chunk.size() >= MERGE_CHUNK || chunkBytes >= MERGE_CHUNK_BYTES) {
            replica.merge(chunk);
            health.merged(peer, versions);
            chunk = new ArrayList<>();
            chunkBytes = 0;
          }
        } else if (o.has("view")) {
          ViewState peerView = Json.decodeView(o.get("view"));
          replica.mergeView(peerView);
          health.answerStarted(peer, peerView.members(), o.has("keys") ? o.get("keys").getAsLong() : -1);
        } else if (o.has("marks")) {
          if (!chunk.isEmpty()) replica.merge(chunk);
          long count = o.get("count").getAsLong();
          if (count != versions) throw new IOException("answer promised " + count + " versions, got " + versions);
          VectorClock marks = Json.decodeVc(o.get("marks"));
          replica.raiseApplied(marks);
          metrics.add("pull.bytes_received", bytes);
          metrics.add("pull.versions_received", versions);
          metrics.inc(ownOnly ? "pull.completed_own" : "pull.completed");
          health.answered(peer, ownOnly, versions, bytes);
          VectorClock peerApplied = o.has("applied") ? Json.decodeVc(o.get("applied")) : marks;
          return new Outcome(PullResult.COMPLETE, peerApplied, marks);
        }
      }
      if (!chunk.isEmpty()) replica.merge(chunk); // merging a partial answer is safe; raising marks is not
      metrics.add("pull.bytes_received", bytes);
      metrics.inc("pull.truncated");
      return Outcome.FAILED;
    } catch (IOException | RuntimeException e) {
      metrics.inc("pull.failed");
      return Outcome.FAILED;
    }
  }

  @Override
  public boolean drain(String peer, long timeoutMillis) {
    OkHttpClient c = shortClient.newBuilder().callTimeout(Duration.ofMillis(timeoutMillis)).build();
    long start = System.nanoTime();
    boolean ok = pullOnce(c, peer, 0, null, false).result() == PullResult.COMPLETE;
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    LOG.info(() -> ok ? "drained " + peer + " before its removal in " + ms + " ms"
        : "could not drain " + peer + " before its removal (no complete answer in " + ms + " ms)");
    return ok;
  }

  @Override
  public CompletableFuture<Boolean> pushView(String peer, ViewState view) {
    JsonObject body = new JsonObject();
    body.addProperty("from", replica.nodeId());
    body.add("view", Json.encode(view));
    Request.Builder b = new Request.Builder()
        .url("http://" + peer + "/internal/view")
        .put(RequestBody.create(body.toString(), JSON));
    if (token != null) b.header("X-Cluster-Token", token);
    CompletableFuture<Boolean> f = new CompletableFuture<>();
    shortClient.newCall(b.build()).enqueue(new Callback() {
      @Override
      public void onFailure(Call call, IOException e) {
        f.complete(false);
      }

      @Override
      public void onResponse(Call call, Response response) {
        try (response) {
          f.complete(response.code() == 200);
        }
      }
    });
    return f;
  }

  @Override
  public synchronized void close() {
    closed = true;
    for (Puller p : pullers.values()) p.stop();
    pullers.clear();
    pullClient.dispatcher().executorService().shutdown();
    turnTimer.shutdownNow();
    pullClient.connectionPool().evictAll();
  }

  // ---------------------------------------------------------------- the puller loop

  private synchronized boolean anotherPeerUnreachable(String peer) {
    for (Map.Entry<String, Puller> e : pullers.entrySet()) {
      if (!e.getKey().equals(peer) && e.getValue().failing) return true;
    }
    return false;
  }

  /**
   * Pulls from one peer for as long as it is in the view, backing off while it fails.
   *
   * <p>It starts with one complete pull (every origin), then asks only for the peer's own writes,
   * so that in steady state each write crosses the network once per replica rather than being
   * forwarded by every node. Forwarding is still needed when this node cannot reach some writer
   * (A–C cut, both reach B): while a pull from some other peer fails, pulls are complete (and held
   * as usual), and when an answer shows the peer ahead of this node on another origin,
   * and this node has not caught up on it {@link #FORWARD_AFTER_MILLIS} later, the next pull is complete again.
   * Own-origin pulls are held at most {@link #OWN_HOLD_MILLIS} so that this check runs even when
   * the peer itself does not write.
   */
  private final class Puller implements Runnable {
    private static final long BASE_BACKOFF_MILLIS = 50;
    private static final long MAX_BACKOFF_MILLIS = 500;
    private static final long OWN_HOLD_MILLIS = 250;
    private static final long FORWARD_AFTER_MILLIS = 250;

    private final ForwardWatch forwardWatch = new ForwardWatch(FORWARD_AFTER_MILLIS);

    private final String peer;
    private final Thread thread;
    private final Call[] current = new Call[1];
    private volatile boolean running = true;
    /** True while the last pull from this peer failed: others must forward its writes. */
    volatile boolean failing;
    private final Object sleeper = new Object();
    private boolean woken;

    Puller(String peer) {
      this.peer = peer;
      this.thread = new Thread(this, "puller-" + peer);
      this.thread.setDaemon(true);
    }

    void start() {
      thread.start();
    }

    void stop() {
      running = false;
      Call c = current[0];
      if (c != null) c.cancel();
      wake();
    }

    void cancelCurrent() {
      Call c = current[0];
      if (c != null) c.cancel();
    }

    void wake() {
      synchronized (sleeper) {
        woken = true;
        sleeper.notifyAll();
      }
    }


    /**
     * A complete pull in turn with the other pullers' (see {@link #catchUp}). The turn is kept
     * while the peer streams its answer, and given up if it has not started answering within
     * {@link #CATCH_UP_TURN_MILLIS}: an unreachable peer must not delay catching up from a
     * reachable one.
     */
    private Outcome catchUpPull() {
      java.util.concurrent.atomic.AtomicBoolean held = new java.util.concurrent.atomic.AtomicBoolean();
      java.util.concurrent.atomic.AtomicBoolean answering = new java.util.concurrent.atomic.AtomicBoolean();
      try {
        held.set(catchUp.tryAcquire(60, TimeUnit.SECONDS));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Outcome.FAILED;
      }
      health.catchUpStarted(peer);
      Runnable release = () -> {
        if (held.compareAndSet(true, false)) catchUp.release();
      };
      java.util.concurrent.ScheduledFuture<?> giveUp = turnTimer.schedule(() -> {
        if (!answering.get()) release.run();
      }, CATCH_UP_TURN_MILLIS, TimeUnit.MILLISECONDS);
      try {
        return pullOnce(pullClient, peer, 0, current, false, () -> answering.set(true));
      } finally {
        giveUp.cancel(false);
        release.run();
      }
    }

    @Override
    public void run() {
      int failures = 0;
      boolean complete = true; // catch up on every origin first
      while (running && !closed) {
        Outcome o;
        if (complete) {
          o = catchUpPull();
        } else if (anotherPeerUnreachable(peer)) {
          // Some writer cannot be reached directly: this peer must forward its writes, so pull
          // everything, long-polling as usual.
          o = pullOnce(pullClient, peer, holdMillis, current, false);
        } else {
          o = pullOnce(ownClient, peer, Math.min(holdMillis, OWN_HOLD_MILLIS), current, true);
        }
        failing = o.result() == PullResult.FAILED;
        health.pullEnded(peer, o.result() == PullResult.COMPLETE, o.result() == PullResult.REFUSED, o.peerApplied());
        if (o.result() == PullResult.COMPLETE) {
          failures = 0;
          complete = !complete && forwardWatch.needsComplete(
              o.marks(), o.peerApplied(), replica.meta().applied(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime()));
          if (complete) metrics.inc("pull.forwarding");
          continue;
        }
        failures = Math.min(failures + 1, 16);
        long cap = Math.min(MAX_BACKOFF_MILLIS, BASE_BACKOFF_MILLIS << Math.min(failures, 6));
        long sleep = cap / 2 + (long) (Math.random() * (cap / 2)); // jitter keeps retries from synchronising
        synchronized (sleeper) {
          if (!woken) {
            try {
              sleeper.wait(sleep);
            } catch (InterruptedException e) {
              return;
            }
          }
          if (woken) failures = 0;
          woken = false;
        }
      }
      LOG.fine(() -> "puller for " + peer + " stopped");
    }
  }
}
