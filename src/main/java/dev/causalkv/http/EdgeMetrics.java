package dev.causalkv.http;

import dev.causalkv.driver.Metrics;
import io.undertow.server.HttpServerExchange;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The edge's request metrics: latency of every request by operation and status (measured from
 * the first byte handled to the end of the exchange, waits and streamed answers included),
 * {@code Payload out of date} answers, and acknowledged client writes.
 */
final class EdgeMetrics {

  private final Metrics.Histogram latency;
  private final Metrics.Counter outOfDate;
  private final Metrics.Counter writes;
  private final AtomicLong acknowledgedWrites = new AtomicLong();

  EdgeMetrics(Metrics metrics) {
    this.latency = metrics.histogram("causalkv_http_request_duration_seconds",
        "Time to answer HTTP requests, by operation and status code (reads that wait include the wait)",
        Metrics.LATENCY_SECONDS, "op", "status");
    this.outOfDate = metrics.counter("causalkv_payload_out_of_date_total",
        "Answers 400 Payload out of date: the node could not show the client's history in time", "op");
    this.writes = metrics.counter("causalkv_writes_acknowledged_total",
        "Client writes (PUT, DELETE) this node acknowledged", "op");
    // series that exist from the start read as 0 rather than missing (rate() and alerts want them)
    for (String op : new String[] {"get", "search", "delete"}) outOfDate.add(0, op);
    for (String op : new String[] {"put", "delete"}) writes.add(0, op);
  }

  /** Starts timing {@code ex}; the observation is made when the exchange completes, however it ends. */
  void watch(HttpServerExchange ex) {
    long start = System.nanoTime();
    ex.addExchangeCompleteListener((e, next) -> {
      try {
        observe(e, System.nanoTime() - start);
      } finally {
        next.proceed();
      }
    });
  }

  long acknowledgedWrites() {
    return acknowledgedWrites.get();
  }

  private void observe(HttpServerExchange e, long nanos) {
    String op = op(e.getRequestMethod().toString(), e.getRequestPath());
    int status = e.getStatusCode();
    latency.observeNanos(nanos, op, Integer.toString(status));
    if (status == 400 && "Payload out of date".equals(e.getAttachment(HttpCall.ANSWER_MSG))) outOfDate.inc(op);
    if ((op.equals("put") && (status == 200 || status == 201)) || (op.equals("delete") && status == 200)) {
      writes.inc(op);
      acknowledgedWrites.incrementAndGet();
    }
  }

  /** The operation a request is counted under: a small, fixed set, so the series stay few. */
  static String op(String method, String path) {
    if (path.startsWith("/keyValue-store/")) {
      if (path.startsWith("/keyValue-store/search/")) return method.equals("GET") ? "search" : "kv_other";
      return switch (method) {
        case "GET" -> "get";
        case "PUT" -> "put";
        case "DELETE" -> "delete";
        default -> "kv_other";
      };
    }
    if (path.equals("/view")) {
      return switch (method) {
        case "GET" -> "view_get";
        case "PUT" -> "view_put";
        case "DELETE" -> "view_delete";
        default -> "other";
      };
    }
    if (path.equals("/internal/pull")) return "pull";
    if (path.equals("/internal/view")) return "view_push";
    if (path.startsWith("/admin/")) return "admin";
    return switch (path) {
      case "/payload/merge" -> "payload_merge";
      case "/metrics" -> "metrics";
      case "/status" -> "status_page";
      case "/version" -> "version";
      default -> "other";
    };
  }
}
