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

  private void op(HttpCall call, Event.Op op, String key, String value, VectorClock p) {
    metrics.inc("op." + op.name().toLowerCase(java.util.Locale.ROOT));
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
    Map<String, Object> out = new LinkedHashMap<>();
    int status;
    switch (c.outcome()) {
      case VALUE -> {
        out.put("result", "Success");
        out.put("value", c.visible().value());
        status = 200;
      }
      case SEARCHED -> {
        out.put("isExists", c.exists());
        out.put("result", "Success");
        status = 200;
      }
      case NOT_FOUND -> {
        out.put("result", "Error");
        out.put("msg", "Key does not exist");
        status = 404;
      }
      case ADDED, UPDATED -> {
        out.put("replaced", c.exists());
        out.put("msg", c.exists() ? "Updated successfully" : "Added successfully");
        status = c.exists() ? 201 : 200;
      }
      case DELETED -> {
        out.put("result", "Success");
        out.put("msg", "Key deleted");
        status = 200;
      }
      case OUT_OF_DATE -> {
        metrics.inc("op.out_of_date");
        out.put("result", "Error");
        out.put("msg", "Payload out of date");
        status = 400;
      }
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
    out.put("payload", payloads.encode(c.payload()));
    call.respond(status, out);
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
