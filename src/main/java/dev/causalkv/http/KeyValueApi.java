package dev.causalkv.http;

import dev.causalkv.core.VectorClock;
import dev.causalkv.driver.Clock;
import dev.causalkv.driver.Metrics;
import dev.causalkv.driver.NodeLoop;
import dev.causalkv.driver.Requests;
import dev.causalkv.protocol.Event;
import dev.causalkv.protocol.Reply;
import dev.causalkv.security.Keyring;
import dev.causalkv.wire.PayloadCodec;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The client API of {@code /keyValue-store} (the assignment, docs/design.md §4 and §8): checks
 * the request, hands it to the core as an event, and turns the core's reply into the
 * assignment's JSON. Every rule of what to answer lives in the core.
 */
final class KeyValueApi {

  static final int MAX_KEY_CHARS = 200;
  static final int MAX_VALUE_BYTES = 1024 * 1024;

  private final NodeLoop loop;
  private final Requests requests;
  private final PayloadCodec payloads;
  private final Clock clock;
  private final Metrics metrics;
  private final ScheduledExecutorService timer;
  private final long keyWaitMillis;

  KeyValueApi(NodeLoop loop, Requests requests, PayloadCodec payloads, Clock clock, Metrics metrics,
      ScheduledExecutorService timer, long keyWaitMillis) {
    this.loop = loop;
    this.requests = requests;
    this.payloads = payloads;
    this.clock = clock;
    this.metrics = metrics;
    this.timer = timer;
    this.keyWaitMillis = keyWaitMillis;
  }

  void get(HttpCall call, String key, boolean search) {
    withPayload(call, () -> submit(call, search ? Event.Op.SEARCH : Event.Op.GET, key, null));
  }

  void put(HttpCall call, String key) {
    withPayload(call, () -> doPut(call, key));
  }

  void delete(HttpCall call, String key) {
    withPayload(call, () -> submit(call, Event.Op.DELETE, key, null));
  }

  /**
   * Runs {@code go}, which decodes the payload. A payload sealed by a key this node has not learnt
   * yet (a member it has not pulled from since that member's key was made) is treated like a
   * payload that is not covered yet: the request waits, holding no thread, until the key arrives
   * with a pull answer (then it goes on as if it had just arrived) or the causal wait passes (then
   * 400 "Payload out of date", handing the client's own payload back unchanged: it loses no
   * history, and may retry here later or at another node).
   */
  private void withPayload(HttpCall call, Runnable go) {
    try {
      go.run();
    } catch (PayloadCodec.UnknownKey u) {
      awaitKey(call, u, go);
    }
  }

  private void awaitKey(HttpCall call, PayloadCodec.UnknownKey u, Runnable go) {
    metrics.inc("payload.key_waited");
    AtomicBoolean done = new AtomicBoolean();
    AtomicReference<ScheduledFuture<?>> deadline = new AtomicReference<>();
    Keyring.Wait wait = payloads.keyring().whenKnown(u.keyId(), () -> {
      if (!done.compareAndSet(false, true)) return;
      ScheduledFuture<?> t = deadline.get();
      if (t != null) t.cancel(false);
      resume(call, go, u);
    });
    if (wait == null) {
      call.respond(503, HttpCall.error("Node overloaded: too many requests waiting, retry"));
      return;
    }
    try {
      deadline.set(timer.schedule(() -> {
        if (wait.cancel() && done.compareAndSet(false, true)) outOfDateKey(call, u);
      }, keyWaitMillis, TimeUnit.MILLISECONDS));
    } catch (RejectedExecutionException closing) {
      if (wait.cancel() && done.compareAndSet(false, true)) outOfDateKey(call, u);
    }
  }

  /** The key arrived: the request goes on, on whichever thread learnt it; its failures still become JSON answers. */
  private void resume(HttpCall call, Runnable go, PayloadCodec.UnknownKey u) {
    try {
      go.run();
    } catch (PayloadCodec.UnknownKey again) {
      outOfDateKey(call, u); // cannot happen: the key is known now
    } catch (HttpCall.BadRequest b) {
      call.respond(b.status, b.body);
    } catch (RuntimeException e) {
      call.respond(500, HttpCall.error("Internal error"));
    }
  }

  private void outOfDateKey(HttpCall call, PayloadCodec.UnknownKey u) {
    metrics.inc("op.out_of_date");
    metrics.inc("payload.key_unknown");
    Map<String, Object> m = HttpCall.error("Payload out of date");
    m.put("detail", "the payload was sealed by a node this one has not heard from yet; retry, or ask another node");
    m.put("payload", u.token());
    call.respond(400, m);
  }

  private void doPut(HttpCall call, String key) {
    VectorClock p = payload(call);
    checkKey(key, p);
    String value = call.param("val");
    if (value == null) throw bad(400, "Value is missing", p);
    if (value.getBytes(StandardCharsets.UTF_8).length > MAX_VALUE_BYTES) {
      throw bad(400, "Object too large. Size limit is 1MB", p);
    }
    op(call, Event.Op.PUT, key, value, p);
  }

  private void submit(HttpCall call, Event.Op op, String key, String value) {
    VectorClock p = payload(call);
    checkKey(key, p);
    op(call, op, key, value, p);
  }

  /** Counter names per operation, made once: the request path builds no string for them. */
  private static final String[] OP_COUNTERS = new String[Event.Op.values().length];

  static {
    for (Event.Op o : Event.Op.values()) OP_COUNTERS[o.ordinal()] = "op." + o.name().toLowerCase(java.util.Locale.ROOT);
  }

  private void op(HttpCall call, Event.Op op, String key, String value, VectorClock p) {
    metrics.inc(OP_COUNTERS[op.ordinal()]);
    long id = requests.register(r -> answer(call, r, p));
    loop.clientOp(new Event.ClientOp(id, op, key, value, p, clock.nowMillis()));
  }

  private void answer(HttpCall call, Reply r, VectorClock sent) {
    if (r instanceof Reply.Unavailable u) {
      metrics.inc("op.unavailable");
      Map<String, Object> m = HttpCall.error(u.reason());
      m.put("payload", payloads.encode(sent));
      call.respond(503, m);
      return;
    }
    Reply.Client c = (Reply.Client) r;
    // The answers of every successful or definite outcome, written directly (see ClientJson).
    String p = c.outcome() == Reply.Outcome.INDEFINITE || c.outcome() == Reply.Outcome.INVALID_PAYLOAD
        ? null : payloads.encode(c.payload());
    switch (c.outcome()) {
      case VALUE -> {
        call.respondText(200, new ClientJson().str("result", "Success").str("value", c.visible().value())
            .str("payload", p).end(), p, null);
        return;
      }
      case SEARCHED -> {
        call.respondText(200, new ClientJson().bool("isExists", c.exists()).str("result", "Success")
            .str("payload", p).end(), p, null);
        return;
      }
      case NOT_FOUND -> {
        call.respondText(404, new ClientJson().str("result", "Error").str("msg", "Key does not exist")
            .str("payload", p).end(), p, "Key does not exist");
        return;
      }
      case ADDED, UPDATED -> {
        String msg = c.exists() ? "Updated successfully" : "Added successfully";
        call.respondText(c.exists() ? 201 : 200, new ClientJson().bool("replaced", c.exists())
            .str("msg", msg).str("payload", p).end(), p, msg);
        return;
      }
      case DELETED -> {
        call.respondText(200, new ClientJson().str("result", "Success").str("msg", "Key deleted")
            .str("payload", p).end(), p, "Key deleted");
        return;
      }
      case OUT_OF_DATE -> {
        metrics.inc("op.out_of_date");
        call.respondText(400, new ClientJson().str("result", "Error").str("msg", "Payload out of date")
            .str("payload", p).end(), p, "Payload out of date");
        return;
      }
      default -> { }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    switch (c.outcome()) {
      case INDEFINITE -> {
        metrics.inc("op.indefinite");
        out.put("result", "Error");
        out.put("msg", "Storage failed while the write was being made durable: it may or may not have been made;"
            + " this node has stopped serving");
        out.put("payload", payloads.encode(sent));
        call.respond(503, out);
        return;
      }
      default -> { // INVALID_PAYLOAD
        out.put("result", "Error");
        out.put("msg", "Payload is not valid");
        if (c.detail() != null) out.put("detail", c.detail());
        out.put("payload", payloads.encode(VectorClock.EMPTY));
        call.respond(400, out);
        return;
      }
    }
  }

  private VectorClock payload(HttpCall call) {
    if (call.repeated("payload")) {
      // What a Python dict sent as form data turns into (requests sends its keys: payload=vc&payload=sig).
      throw invalidPayload("payload was sent more than once (payload=a&payload=b): send the payload as one string,"
          + " exactly as it was handed out");
    }
    try {
      return payloads.decode(call.param("payload"));
    } catch (PayloadCodec.InvalidPayload e) {
      throw invalidPayload(e.getMessage());
    }
  }

  private HttpCall.BadRequest invalidPayload(String detail) {
    Map<String, Object> m = HttpCall.error("Payload is not valid");
    m.put("detail", detail);
    m.put("payload", payloads.encode(VectorClock.EMPTY));
    return new HttpCall.BadRequest(400, m);
  }

  private void checkKey(String key, VectorClock p) {
    if (key == null || key.isEmpty() || key.length() > MAX_KEY_CHARS) throw bad(400, "Key not valid", p);
  }

  private HttpCall.BadRequest bad(int status, String msg, VectorClock p) {
    Map<String, Object> m = HttpCall.error(msg);
    m.put("payload", payloads.encode(p));
    return new HttpCall.BadRequest(status, m);
  }
}
