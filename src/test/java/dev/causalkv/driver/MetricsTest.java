package dev.causalkv.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The facade: named counters as before, and Prometheus series; two nodes in one JVM keep apart. */
class MetricsTest {

  static String text(Metrics m) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    m.writeText(out);
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void namedCountersKeepTheirApiAndAreExported() throws Exception {
    Metrics m = new Metrics();
    m.inc("op.get");
    m.add("op.get", 2);
    m.inc("pull.failed");
    assertEquals(3, m.get("op.get"));
    assertEquals(0, m.get("never"));
    assertEquals(Map.of("op.get", 3L, "pull.failed", 1L), m.snapshot());
    assertTrue(text(m).contains("causalkv_events_total{event=\"op.get\"} 3.0"), text(m));
  }

  @Test
  void seriesOfTwoNodesInOneJvmStayApart() throws Exception {
    Metrics a = new Metrics();
    Metrics b = new Metrics();
    Metrics.Counter ca = a.counter("causalkv_things_total", "things", "kind");
    Metrics.Counter cb = b.counter("causalkv_things_total", "things", "kind"); // same name, other registry
    ca.inc("x");
    ca.add(2, "x");
    cb.inc("y");
    assertEquals(3, ca.get("x"));
    assertEquals(0, cb.get("x"));
    Metrics.Histogram h = a.histogram("causalkv_wait_seconds", "waits", Metrics.LATENCY_SECONDS, "op");
    h.observeNanos(2_000_000, "get");
    h.observe(0.5, "get");
    assertEquals(2, h.count("get"));
    try (Metrics.Timer t = h.startTimer("put")) {
      Thread.sleep(2);
    }
    assertEquals(1, h.count("put"));
    a.gauge("causalkv_answer", "always 42", () -> 42);
    a.gauge("causalkv_unknown", "NaN: left out", () -> Double.NaN);
    a.gauges("causalkv_per_peer", "per peer", "peer", () -> Map.of("p1", 1, "p2", Double.NaN));
    String t = text(a);
    assertTrue(t.contains("causalkv_things_total{kind=\"x\"} 3.0"), t);
    assertFalse(t.contains("kind=\"y\""), t);
    assertTrue(t.contains("causalkv_wait_seconds_count{op=\"get\"} 2"), t);
    assertTrue(t.contains("causalkv_wait_seconds_bucket{op=\"get\",le=\"0.0025\"} 1"), t);
    assertTrue(t.contains("causalkv_answer 42.0"), t);
    assertFalse(t.contains("causalkv_unknown "), t);
    assertTrue(t.contains("causalkv_per_peer{peer=\"p1\"} 1.0") && !t.contains("peer=\"p2\""), t);
    assertTrue(t.contains("jvm_memory_used_bytes"), "the JVM's series are appended to every node's");
    assertTrue(text(b).contains("jvm_memory_used_bytes"));
    assertTrue(Metrics.textContentType().startsWith("text/plain; version=0.0.4"));
  }
}
