package dev.causalkv.http;

import dev.causalkv.core.VectorClock;
import dev.causalkv.driver.Clock;
import dev.causalkv.driver.Metrics;
import dev.causalkv.driver.NodeLoop;
import dev.causalkv.driver.Requests;
import dev.causalkv.protocol.Event;
import dev.causalkv.protocol.Reply;
import dev.causalkv.wire.PayloadCodec;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

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

  KeyValueApi(NodeLoop loop, Requests requests, PayloadCodec payloads, Clock clock, Metrics metrics) {
    this.loop = loop;
    this.requests = requests;
    this.payloads = payloads;
    this.clock = clock;
    this.metrics = metrics;
  }

  void get(HttpCall call, String key, boolean search) {
    submit(call, search ? Event.Op.SEARCH : Event.Op.GET, key, null);
  }

  void put(HttpCall call, String key) {
    VectorClock p = payload(call);
    checkKey(key, p);
    String value = call.param("val");
    if (value == null) throw bad(400, "Value is missing", p);
    if (value.getBytes(StandardCharsets.UTF_8).length > MAX_VALUE_BYTES) {
      throw bad(400, "Object too large. Size limit is 1MB", p);
    }
    op(call, Event.Op.PUT, key, value, p);
  }

  void delete(HttpCall call, String key) {
    submit(call, Event.Op.DELETE, key, null);
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
    switch (c.outcome()) {
      case VALUE -> {
        call.respondText(200, new ClientJson().str("result", "Success").str("value", c.visible().value())
            .str("payload", payloads.encode(c.payload())).end());
        return;
      }
      case SEARCHED -> {
        call.respondText(200, new ClientJson().bool("isExists", c.exists()).str("result", "Success")
            .str("payload", payloads.encode(c.payload())).end());
        return;
      }
      case NOT_FOUND -> {
        call.respondText(404, new ClientJson().str("result", "Error").str("msg", "Key does not exist")
            .str("payload", payloads.encode(c.payload())).end());
        return;
      }
      case ADDED, UPDATED -> {
        call.respondText(c.exists() ? 201 : 200, new ClientJson().bool("replaced", c.exists())
            .str("msg", c.exists() ? "Updated successfully" : "Added successfully").str("payload", payloads.encode(c.payload())).end());
        return;
      }
      case DELETED -> {
        call.respondText(200, new ClientJson().str("result", "Success").str("msg", "Key deleted")
            .str("payload", payloads.encode(c.payload())).end());
        return;
      }
      case OUT_OF_DATE -> {
        metrics.inc("op.out_of_date");
        call.respondText(400, new ClientJson().str("result", "Error").str("msg", "Payload out of date")
            .str("payload", payloads.encode(c.payload())).end());
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
