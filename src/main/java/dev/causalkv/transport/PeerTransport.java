package dev.causalkv.transport;

import dev.causalkv.driver.Metrics;
import dev.causalkv.protocol.Event;
import dev.causalkv.protocol.PullRequest;
import dev.causalkv.protocol.Reply;
import dev.causalkv.protocol.Send;
import dev.causalkv.wire.PeerCodec;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * The peer side of the node's effects over OkHttp: issues the pulls, view pushes and forwarded
 * view changes the core asks for, and feeds their outcomes back to it as events. Everything here
 * is carriage; what to send, when, and what an answer means is decided in the core.
 */
public final class PeerTransport implements AutoCloseable {

  private static final MediaType JSON = MediaType.get("application/json");

  private final String token;
  private final Metrics metrics;
  private final PullLog pullLog;
  private final OkHttpClient pullClient;
  private final OkHttpClient ownClient;
  private final OkHttpClient shortClient;
  private final OkHttpClient forwardClient;
  private final Map<Long, Call> calls = new ConcurrentHashMap<>();
  private volatile Consumer<Event> events = e -> {};
  private volatile boolean closed;
  /** Peers cut off by fault injection: calls to them fail at once, as on a partitioned network. */
  private volatile Set<String> unreachable = Set.of();

  public PeerTransport(String token, long holdMillis, Metrics metrics) {
    this.token = token;
    this.metrics = metrics;
    this.pullLog = new PullLog(metrics, () -> System.nanoTime() / 1_000_000);
    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequests(256);
    dispatcher.setMaxRequestsPerHost(32);
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
        .readTimeout(Duration.ofMillis(holdMillis + 3_000)) // a held pull answers within its hold
        .writeTimeout(Duration.ofSeconds(10))
        .retryOnConnectionFailure(false)
        .build();
    this.ownClient = pullClient.newBuilder().readTimeout(Duration.ofMillis(250 + 2_000)).build();
    this.shortClient = pullClient.newBuilder().readTimeout(Duration.ofSeconds(2)).callTimeout(Duration.ofSeconds(3)).build();
    this.forwardClient = pullClient.newBuilder().readTimeout(Duration.ofSeconds(10)).callTimeout(Duration.ofSeconds(10)).build();
  }

  /** Where outcomes go: the node's loop. */
  public void attach(Consumer<Event> events) {
    this.events = events;
  }

  /**
   * Fault-injection seam for in-process tests: from now on every call to one of {@code peers}
   * fails at once and calls in flight to them are cut, as if the network between dropped packets.
   */
  public void setUnreachable(Set<String> peers) {
    this.unreachable = Set.copyOf(peers);
    for (Call c : calls.values()) {
      okhttp3.HttpUrl u = c.request().url();
      if (unreachable.contains(u.host() + ":" + u.port())) c.cancel();
    }
  }

  public void send(Send s) {
    if (closed) return;
    if (s instanceof Send.Pull p) pull(p);
    else if (s instanceof Send.Push p) push(p);
    else if (s instanceof Send.ForwardViewChange f) forward(f);
  }

  public void cancel(long pullId) {
    Call c = calls.remove(pullId);
    if (c != null) c.cancel();
  }

  private Request.Builder request(String peer, String path) {
    Request.Builder b = new Request.Builder().url("http://" + peer + path);
    if (token != null) b.header("X-Cluster-Token", token);
    return b;
  }

  private void pull(Send.Pull p) {
    PullRequest r = p.request();
    OkHttpClient client = r.mode() == PullRequest.Mode.OWN ? ownClient
        : r.mode() == PullRequest.Mode.DRAIN ? shortClient : pullClient;
    Call call = client.newCall(request(p.peer(), "/internal/pull").post(RequestBody.create(PeerCodec.encode(r), JSON)).build());
    calls.put(p.pullId(), call);
    call.enqueue(new PullCall(p.pullId(), this::deliver, metrics, pullLog.watch(p), () -> calls.remove(p.pullId())));
  }

  private void push(Send.Push p) {
    Call call = shortClient.newCall(request(p.peer(), "/internal/view")
        .put(RequestBody.create(PeerCodec.encodePush(p.from(), p.view()), JSON)).build());
    call.enqueue(new Callback() {
      @Override
      public void onFailure(Call c, IOException e) {
        deliver(new Event.PushAnswered(p.pushId(), false));
      }

      @Override
      public void onResponse(Call c, Response response) {
        try (response) {
          deliver(new Event.PushAnswered(p.pushId(), response.code() == 200));
        }
      }
    });
  }

  private void forward(Send.ForwardViewChange f) {
    String body = "ip_port=" + java.net.URLEncoder.encode(f.member(), java.nio.charset.StandardCharsets.UTF_8)
        + "&add=" + f.add();
    Call call = forwardClient.newCall(request(f.peer(), "/internal/view-change")
        .post(RequestBody.create(body, MediaType.get("application/x-www-form-urlencoded"))).build());
    call.enqueue(new Callback() {
      @Override
      public void onFailure(Call c, IOException e) {
        deliver(new Event.ForwardAnswered(f.callId(), null));
      }

      @Override
      public void onResponse(Call c, Response response) {
        Reply.ViewChange result = null;
        try (response) {
          if (response.code() == 200 && response.body() != null) {
            result = PeerCodec.decodeViewChange(f.callId(), response.body().string());
          }
        } catch (IOException | RuntimeException e) {
          result = null;
        }
        deliver(new Event.ForwardAnswered(f.callId(), result));
      }
    });
  }

  private void deliver(Event e) {
    if (!closed) events.accept(e);
  }

  @Override
  public void close() {
    closed = true;
    for (Call c : calls.values()) c.cancel();
    calls.clear();
    pullClient.dispatcher().executorService().shutdown();
    pullClient.connectionPool().evictAll();
  }
}
