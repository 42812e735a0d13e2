package dev.causalkv.transport;

import dev.causalkv.core.NodeId;
import dev.causalkv.driver.Metrics;
import dev.causalkv.protocol.Event;
import dev.causalkv.protocol.PullRequest;
import dev.causalkv.protocol.Reply;
import dev.causalkv.protocol.Send;
import dev.causalkv.security.Keyring;
import dev.causalkv.security.PeerNonces;
import dev.causalkv.wire.PeerCodec;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import javax.net.SocketFactory;
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

  /**
   * What the transport needs to be trusted by its peers and to check what they send: this node's
   * id, the nonces it puts on its calls (without a token), the keyring its pulls add to, the
   * highest counter of its view (views from peers far ahead of it are refused), and the address
   * its calls leave from (null: the system's choice).
   */
  public record Trust(String selfId, PeerNonces nonces, Keyring keyring, LongSupplier viewMaxCounter, InetAddress source) {
    static final Trust NONE = new Trust(null, null, null, () -> 0, null);
  }

  private final String token;
  private final Trust trust;
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
    this(token, holdMillis, metrics, Trust.NONE);
  }

  public PeerTransport(String token, long holdMillis, Metrics metrics, Trust trust) {
    this.token = token;
    this.trust = trust;
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
        .socketFactory(trust.source() == null ? SocketFactory.getDefault() : new BoundSocketFactory(trust.source()))
        // The kernel completes a handshake without the peer's application, so even a busy peer
        // connects in milliseconds; a connect still pending after this is a partition (SYNs dropped),
        // and retrying soon, rather than waiting out SYN retransmissions, shortens recovery after a heal.
        .connectTimeout(Duration.ofMillis(100))
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
    else if (trust.nonces() != null) b.header(PeerNonces.HEADER, trust.nonces().nonceFor(peer));
    return b;
  }

  /**
   * Asks {@code member}, at its listed address, whether it issued {@code nonce} for this node's
   * calls: how a call that arrived from an unexpected address (through NAT) is confirmed
   * ({@link dev.causalkv.security.PeerGate}).
   */
  public CompletableFuture<Boolean> confirm(String member, String nonce) {
    CompletableFuture<Boolean> out = new CompletableFuture<>();
    if (closed || trust.selfId() == null) {
      out.complete(false);
      return out;
    }
    okhttp3.HttpUrl url = new okhttp3.HttpUrl.Builder().scheme("http").host(NodeId.host(member))
        .port(Integer.parseInt(member.substring(member.lastIndexOf(':') + 1))).addPathSegments("internal/confirm")
        .addQueryParameter("nonce", nonce).addQueryParameter("for", trust.selfId()).build();
    Call call = shortClient.newCall(new Request.Builder().url(url).get().build());
    call.enqueue(new Callback() {
      @Override
      public void onFailure(Call c, IOException e) {
        out.complete(false);
      }

      @Override
      public void onResponse(Call c, Response response) {
        try (response) {
          boolean yes = false;
          if (response.code() == 200 && response.body() != null) {
            com.google.gson.JsonObject o = dev.causalkv.wire.Json.object(response.body().string());
            yes = o.has("confirmed") && o.get("confirmed").isJsonPrimitive() && o.get("confirmed").getAsBoolean();
          }
          out.complete(yes);
        } catch (IOException | RuntimeException e) {
          out.complete(false);
        }
      }
    });
    metrics.inc("peer.confirm_asked");
    return out;
  }

  private void pull(Send.Pull p) {
    PullRequest r = p.request();
    OkHttpClient client = r.mode() == PullRequest.Mode.OWN ? ownClient
        : r.mode() == PullRequest.Mode.DRAIN ? shortClient : pullClient;
    Call call = client.newCall(request(p.peer(), "/internal/pull").post(RequestBody.create(PeerCodec.encode(r), JSON)).build());
    calls.put(p.pullId(), call);
    call.enqueue(new PullCall(p.pullId(), this::deliver, metrics, pullLog.watch(p), () -> calls.remove(p.pullId()),
        trust.keyring(), trust.viewMaxCounter()));
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
        + "&add=" + f.add()
        + (trust.selfId() == null ? "" : "&from=" + java.net.URLEncoder.encode(trust.selfId(), java.nio.charset.StandardCharsets.UTF_8));
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

  /** Makes every peer connection leave from one local address (the node's {@code BIND}), so peers see the source it is listed at. */
  private static final class BoundSocketFactory extends SocketFactory {
    private final InetAddress local;

    BoundSocketFactory(InetAddress local) {
      this.local = local;
    }

    @Override
    public Socket createSocket() throws IOException {
      Socket s = new Socket();
      s.bind(new InetSocketAddress(local, 0));
      return s;
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
      return new Socket(host, port, local, 0);
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
      return new Socket(host, port, localHost, localPort);
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
      return new Socket(host, port, local, 0);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
      return new Socket(address, port, localAddress, localPort);
    }
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
