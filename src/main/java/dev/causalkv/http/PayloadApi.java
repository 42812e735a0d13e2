package dev.causalkv.http;

import dev.causalkv.core.VectorClock;
import dev.causalkv.wire.PayloadCodec;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code POST /payload/merge a=<payload> b=<payload>}: the union of two payloads, sealed. A client
 * cannot merge sealed payloads itself; it asks a node, which checks both seals, merges the
 * clocks and seals the result. The union of two causally closed histories is causally closed, so
 * the merged payload is as safe to write with as either one.
 */
final class PayloadApi {

  private final PayloadCodec payloads;

  PayloadApi(PayloadCodec payloads) {
    this.payloads = payloads;
  }

  void merge(HttpCall call) {
    String a = call.param("a");
    String b = call.param("b");
    if (a == null || b == null) {
      throw new HttpCall.BadRequest(400, HttpCall.error("Two payloads are needed: a=<payload>&b=<payload>"));
    }
    VectorClock merged = decode(a, "a").merge(decode(b, "b"));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("result", "Success");
    out.put("payload", payloads.encode(merged));
    call.respond(200, out);
  }

  private VectorClock decode(String text, String which) {
    try {
      return payloads.decode(text);
    } catch (PayloadCodec.InvalidPayload e) {
      Map<String, Object> m = HttpCall.error("Payload is not valid");
      m.put("detail", which + ": " + e.getMessage());
      throw new HttpCall.BadRequest(400, m);
    }
  }
}
