package dev.causalkv.http;

import dev.causalkv.core.Replica;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.driver.Clock;
import dev.causalkv.driver.Metrics;
import dev.causalkv.driver.Waiters;
import dev.causalkv.wire.PayloadCodec;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The client API of {@code /keyValue-store} (assignment + DESIGN.md §4 and §8): reads wait, without
 * a thread, until the client's payload is covered; writes are always accepted and answered once
 * durable.
 */
final class KeyValueApi {

  static final int MAX_KEY_CHARS = 200;
  static final int MAX_VALUE_BYTES = 1024 * 1024;

  private final Replica replica;
  private final PayloadCodec payloads;
  private final Waiters waiters;
  private final Clock clock;
  private final Metrics metrics;
  private final long causalWaitMillis;

  KeyValueApi(Replica replica, PayloadCodec payloads, Waiters waiters, Clock clock, Metrics metrics, long causalWaitMillis) {
    this.replica = replica;
    this.payloads = payloads;
    this.waiters = waiters;
    this.clock = clock;
    this.metrics = metrics;
    this.causalWaitMillis = causalWaitMillis;
  }

  /** GET (or search): answered from the siblings once the payload is covered. */
  void get(HttpCall call, String key, boolean search) {
    VectorClock p = payload(call);
    checkKey(key, p);
    metrics.inc(search ? "op.search" : "op.get");
    waiters.park(new CoveredRead(key, p) {
      @Override
      protected void onReady() {
        // Serve only durable versions: a dot a client has seen must survive a crash, or it could be reused.
        afterDurable(call, this::answer);
      }

      private void answer() {
        Replica.Read r = last;
        Version visible = r.siblings().visible();
        boolean exists = visible != null && !visible.isTombstone();
        Map<String, Object> out = new LinkedHashMap<>();
        if (search) {
          out.put("isExists", exists);
          out.put("result", "Success");
          out.put("payload", payloads.encode(r.payload()));
          call.respond(200, out);
        } else if (exists) {
          out.put("result", "Success");
          out.put("value", visible.value());
          out.put("payload", payloads.encode(r.payload()));
          call.respond(200, out);
        } else {
          out.put("result", "Error");
          out.put("msg", "Key does not exist");
          out.put("payload", payloads.encode(r.payload()));
          call.respond(404, out);
        }
      }

      @Override
      protected void onTimeout() {
        outOfDate(call, key, p);
      }
    }, causalWaitMillis);
  }

  /** PUT: a new version that replaces everything this node holds for the key. */
  void put(HttpCall call, String key) {
    VectorClock p = payload(call);
    checkKey(key, p);
    String value = call.param("val");
    if (value == null) throw bad(400, "Value is missing", p);
    if (value.getBytes(StandardCharsets.UTF_8).length > MAX_VALUE_BYTES) {
      throw bad(400, "Object too large. Size limit is 1MB", p);
    }
    metrics.inc("op.put");
    Replica.Write w = replica.write(key, value, p, clock.nowMillis());
    answerWhenDurable(call, w, p, () -> {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("replaced", w.existedBefore());
      out.put("msg", w.existedBefore() ? "Updated successfully" : "Added successfully");
      out.put("payload", payloads.encode(w.version().vc()));
      call.respond(w.existedBefore() ? 201 : 200, out);
    });
  }

  /**
   * DELETE: a tombstone, when the key exists or when the payload stays uncovered after the wait
   * (the tombstone still dominates what the client saw); 404 when covered and absent.
   */
  void delete(HttpCall call, String key) {
    VectorClock p = payload(call);
    checkKey(key, p);
    metrics.inc("op.delete");
    waiters.park(new CoveredRead(key, p) {
      @Override
      protected void onReady() {
        if (!last.siblings().exists()) {
          call.respond(404, withPayload(HttpCall.error("Key does not exist"), p));
        } else {
          tombstone(call, key, p);
        }
      }

      @Override
      protected void onTimeout() {
        tombstone(call, key, p);
      }
    }, causalWaitMillis);
  }

  private void tombstone(HttpCall call, String key, VectorClock p) {
    Replica.Write w = replica.write(key, null, p, clock.nowMillis());
    answerWhenDurable(call, w, p, () -> {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("result", "Success");
      out.put("msg", "Key deleted");
      out.put("payload", payloads.encode(w.version().vc()));
      call.respond(200, out);
    });
  }

  /** Acknowledges a write only once it is durable; a failed sync is a 500, never a silent 200. */
  private void answerWhenDurable(HttpCall call, Replica.Write w, VectorClock p, Runnable answer) {
    w.durable().whenComplete((ok, err) -> {
      if (err != null) call.respond(500, withPayload(HttpCall.error("Write could not be made durable"), p));
      else answer.run();
    });
  }

  private void outOfDate(HttpCall call, String key, VectorClock p) {
    metrics.inc("op.out_of_date");
    // merge(P, VC(S)): never smaller than the client's payload, never the node's applied VC.
    Replica.Read r = replica.read(key, p);
    afterDurable(call, () -> call.respond(400, withPayload(HttpCall.error("Payload out of date"), r.payload())));
  }

  /** Runs {@code answer} once everything this node has committed so far is durable (at once if it is). */
  private void afterDurable(HttpCall call, Runnable answer) {
    CompletableFuture<Void> d = replica.durable();
    if (d.isDone() && !d.isCompletedExceptionally()) {
      answer.run();
      return;
    }
    d.whenComplete((ok, err) -> {
      if (err != null) call.respond(500, HttpCall.error("Store is failing: state could not be made durable"));
      else answer.run();
    });
  }

  /** A read parked until its payload is covered; keeps the last read so answering need not read again. */
  private abstract class CoveredRead extends Waiters.Waiter {
    final String key;
    final VectorClock p;
    volatile Replica.Read last;

    CoveredRead(String key, VectorClock p) {
      this.key = key;
      this.p = p;
    }

    @Override
    protected String kind() {
      return "read";
    }

    @Override
    protected boolean ready() {
      Replica.Read r = replica.read(key, p);
      // Only a covered read is kept: checks run concurrently (the parking thread's re-check and a
      // signal), and an uncovered, older read stored after a covered one would be answered.
      if (r.covered()) last = r;
      return r.covered();
    }
  }

  private VectorClock payload(HttpCall call) {
    VectorClock p;
    try {
      p = payloads.decode(call.param("payload"));
    } catch (PayloadCodec.InvalidPayload e) {
      Map<String, Object> m = HttpCall.error("Payload is not valid");
      m.put("detail", e.getMessage());
      m.put("payload", Map.of());
      throw new HttpCall.BadRequest(400, m);
    }
    if (!replica.isPlausible(p)) {
      Map<String, Object> m = HttpCall.error("Payload is not valid");
      m.put("detail", "payload claims writes of this node that it never made");
      m.put("payload", Map.of());
      throw new HttpCall.BadRequest(400, m);
    }
    return p;
  }

  private void checkKey(String key, VectorClock p) {
    if (key == null || key.isEmpty() || key.length() > MAX_KEY_CHARS) throw bad(400, "Key not valid", p);
  }

  private HttpCall.BadRequest bad(int status, String msg, VectorClock p) {
    return new HttpCall.BadRequest(status, withPayload(HttpCall.error(msg), p));
  }

  private Map<String, Object> withPayload(Map<String, Object> m, VectorClock p) {
    m.put("payload", payloads.encode(p));
    return m;
  }
}
