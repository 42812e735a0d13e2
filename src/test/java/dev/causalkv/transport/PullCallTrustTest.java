package dev.causalkv.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.ViewState;
import dev.causalkv.driver.Metrics;
import dev.causalkv.protocol.Event;
import dev.causalkv.protocol.PullRequest;
import dev.causalkv.protocol.Send;
import dev.causalkv.security.Keyring;
import dev.causalkv.security.PeerNonces;
import dev.causalkv.security.SealKey;
import dev.causalkv.wire.PullStreamCodec;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a puller takes from a peer's answer: the keys of the head (those of every node the peer
 * knows), and nothing at all from an answer whose view is implausible or whose lines are malformed.
 */
class PullCallTrustTest {

  private HttpServer server;
  private final AtomicReference<byte[]> answer = new AtomicReference<>();
  private final AtomicReference<Integer> status = new AtomicReference<>(200);
  private final AtomicReference<String> nonceSeen = new AtomicReference<>();
  private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
  private final Keyring keyring = Keyring.inMemory("127.0.0.1:1");
  private PeerTransport transport;
  private String peer;

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/internal/pull", ex -> {
      nonceSeen.set(ex.getRequestHeaders().getFirst(PeerNonces.HEADER));
      ex.getRequestBody().readAllBytes();
      byte[] b = answer.get();
      ex.sendResponseHeaders(status.get(), b.length);
      try (OutputStream o = ex.getResponseBody()) {
        o.write(b);
      }
    });
    server.start();
    peer = "127.0.0.1:" + server.getAddress().getPort();
    transport = new PeerTransport(null, 1000, new Metrics(),
        new PeerTransport.Trust("127.0.0.1:1", PeerNonces.system(), keyring, () -> 3, null));
    transport.attach(events::add);
  }

  @AfterEach
  void stop() {
    transport.close();
    server.stop(0);
  }

  private Event pullOnce() throws InterruptedException {
    events.clear();
    PullRequest r = new PullRequest("127.0.0.1:1", VectorClock.EMPTY, VectorClock.EMPTY, ViewState.EMPTY, PullRequest.Mode.ALL, 0, false);
    transport.send(new Send.Pull(7, peer, r));
    while (true) {
      Event e = events.poll(10, TimeUnit.SECONDS);
      if (e == null) throw new AssertionError("no final event");
      if (e instanceof Event.AnswerEnded || e instanceof Event.PullFailed || e instanceof Event.PullRefused) return e;
    }
  }

  private static byte[] lines(byte[]... ls) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (byte[] l : ls) out.writeBytes(l);
    return out.toByteArray();
  }

  @Test
  void theHeadsKeysAreLearntAllOfThem() throws Exception {
    SealKey b = SealKey.generate("10.0.0.3:8080", new SecureRandom());
    SealKey c = SealKey.generate("10.0.0.4:8080", new SecureRandom()); // a node the peer learnt of: handed on
    answer.set(lines(PullStreamCodec.head(ViewState.EMPTY, VectorClock.EMPTY, -1, List.of(b, c)),
        PullStreamCodec.end(VectorClock.EMPTY, VectorClock.EMPTY, 0)));
    assertInstanceOf(Event.AnswerEnded.class, pullOnce());
    assertEquals(List.of(b), keyring.withId(b.id()));
    assertEquals(List.of(c), keyring.withId(c.id()));
    assertTrue(nonceSeen.get() != null && !nonceSeen.get().isEmpty(), "without a token, calls carry a nonce");
  }

  @Test
  void anAnswerWithAnImplausibleViewIsIgnoredWhole() throws Exception {
    ViewState far = ViewState.of(Map.of("10.0.0.3:8080", new ViewState.Entry(false, 3 + ViewState.MAX_COUNTER_AHEAD + 1, "10.0.0.3:8080")));
    SealKey b = SealKey.generate("10.0.0.3:8080", new SecureRandom());
    answer.set(lines(PullStreamCodec.head(far, VectorClock.EMPTY, -1, List.of(b)), PullStreamCodec.end(VectorClock.EMPTY, VectorClock.EMPTY, 0)));
    assertInstanceOf(Event.PullFailed.class, pullOnce());
    assertTrue(keyring.withId(b.id()).isEmpty(), "nothing taken from it, keys included");
    assertFalse(events.stream().anyMatch(e -> e instanceof Event.AnswerBegan));

    status.set(403);
    answer.set(("{\"error\":\"not a member\",\"view\":{\"10.0.0.3:8080\":[false," + Long.MAX_VALUE + ",\"10.0.0.3:8080\"]}}")
        .getBytes(StandardCharsets.UTF_8));
    assertInstanceOf(Event.PullFailed.class, pullOnce(), "a refusal carrying such a view teaches nothing either");
    answer.set("{\"error\":\"not a member\",\"view\":{\"10.0.0.3:8080\":[false,2,\"10.0.0.3:8080\"]}}".getBytes(StandardCharsets.UTF_8));
    assertInstanceOf(Event.PullRefused.class, pullOnce());
  }

  @Test
  void aMalformedVersionBreaksTheAnswerOff() throws Exception {
    String bad = "{\"ver\":{\"k\":\"x\",\"v\":\"1\",\"o\":\"no-origin\",\"s\":1,\"ts\":1,\"vc\":{\"no-origin\":1}}}\n";
    answer.set(lines(PullStreamCodec.head(ViewState.EMPTY, VectorClock.EMPTY), bad.getBytes(StandardCharsets.UTF_8),
        PullStreamCodec.end(VectorClock.EMPTY, VectorClock.EMPTY, 1)));
    assertInstanceOf(Event.PullFailed.class, pullOnce());
    String overflow = "{\"ver\":{\"k\":\"x\",\"v\":\"1\",\"o\":\"10.0.0.3:8080#b\",\"s\":" + Long.MAX_VALUE
        + ",\"ts\":1,\"vc\":{\"10.0.0.3:8080#b\":" + Long.MAX_VALUE + "}}}\n";
    answer.set(lines(PullStreamCodec.head(ViewState.EMPTY, VectorClock.EMPTY), overflow.getBytes(StandardCharsets.UTF_8),
        PullStreamCodec.end(VectorClock.EMPTY, VectorClock.EMPTY, 1)));
    assertInstanceOf(Event.PullFailed.class, pullOnce());
  }
}
