package dev.causalkv.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /metrics} of a real 3-node cluster (one node on the durable engine), after a workload
 * that exercises every instrumented path, read with the Prometheus project's own text-format
 * parser (see {@link PromText}).
 */
@Timeout(120)
class MetricsScrapeTest {

  private static final Pattern NAME = Pattern.compile("^(causalkv|jvm|process)_[a-z0-9_]+$");

  @TempDir Path tmp;

  static String scrapeText(String node) throws Exception {
    HttpResponse<String> r = Client.HTTP.send(HttpRequest.newBuilder(URI.create("http://" + node + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
        r.headers().toString());
    return r.body();
  }

  static PromText scrape(String node) throws Exception {
    return PromText.parse(scrapeText(node));
  }

  @Test
  void everyInstrumentedPathShowsUpUnderConventionalNames() throws Exception {
    try (TestCluster c = new TestCluster()) {
      String n1 = TestCluster.newId(), n2 = TestCluster.newId(), n3 = TestCluster.newId();
      List<String> view = List.of(n1, n2, n3);
      Map<String, String> env = Map.of("CAUSAL_WAIT_MS", "300");
      c.startNode(n1, view, Map.of("CAUSAL_WAIT_MS", "300", "DATA_DIR", tmp.resolve("n1").toString(), "SYNC", "batch"));
      c.startNode(n2, view, env);
      c.startNode(n3, view, env);
      PromText first = scrape(n1); // skips here when the parser is missing (locally)

      Client w = new Client();
      for (int i = 0; i < 20; i++) assertEquals(200, w.put(n1, "k" + i, "v").status());
      assertEquals(201, w.put(n1, "k0", "again").status());
      await().atMost(Duration.ofSeconds(20)).until(() -> scrape(n3).value("causalkv_keys") == 20);

      // a read that cannot be served in time on a node cut off from the writer
      c.partition(List.of(n3), List.of(n1, n2));
      Client cut = new Client();
      assertEquals(201, cut.put(n1, "k1", "newer").status());
      assertEquals("Payload out of date", cut.get(n3, "k1").msg());
      // concurrent writes on both sides make siblings
      new Client().put(n3, "both", "from-n3");
      Thread.sleep(2);
      new Client().put(n1, "both", "from-n1");
      await().atMost(Duration.ofSeconds(10)).until(() -> scrape(n3).value("causalkv_peer_up", "peer", n1) == 0);
      c.heal();
      await().atMost(Duration.ofSeconds(20)).until(() -> scrape(n3).value("causalkv_keys_by_siblings", "siblings", "2") >= 1);
      // a tombstone, collected once every member has applied it
      assertEquals(200, w.delete(n1, "k5").status());
      await().atMost(Duration.ofSeconds(30)).until(() -> scrape(n1).value("causalkv_tombstones_collected_total") >= 1);

      PromText m1 = scrape(n1);
      PromText m3 = scrape(n3);

      // names and types by Prometheus conventions
      for (PromText.Family f : m1.families().values()) {
        assertTrue(NAME.matcher(f.name()).matches(), "name: " + f.name());
        assertFalse(f.name().contains("millis") || f.name().endsWith("_ms"), "base units: " + f.name());
        assertFalse(f.help().isBlank(), "help text: " + f.name());
        if (f.type().equals("counter")) {
          for (PromText.Sample s : f.samples()) {
            assertTrue(s.name().endsWith("_total") || s.name().endsWith("_created"), "counter sample " + s.name());
          }
        }
        if (f.name().contains("seconds")) assertTrue(f.name().endsWith("_seconds"), "unit last: " + f.name());
      }
      assertEquals("histogram", m1.family("causalkv_http_request_duration_seconds").type());
      assertEquals("histogram", m1.family("causalkv_wait_duration_seconds").type());
      assertEquals("histogram", m1.family("causalkv_fsync_duration_seconds").type());
      assertEquals("histogram", m1.family("causalkv_group_commit_size").type());
      assertEquals("histogram", m1.family("causalkv_pull_answer_versions").type());
      assertEquals("counter", m1.family("causalkv_payload_out_of_date").type());
      assertEquals("gauge", m1.family("causalkv_peer_up").type());

      // the edge: latency per operation and status
      assertTrue(m1.value("causalkv_http_request_duration_seconds_count", "op", "put", "status", "200") >= 20);
      assertTrue(m1.value("causalkv_http_request_duration_seconds_count", "op", "put", "status", "201") >= 2);
      assertTrue(m1.value("causalkv_http_request_duration_seconds_bucket", "op", "put", "status", "200", "le", "+Inf") >= 20);
      assertTrue(m1.value("causalkv_writes_acknowledged_total", "op", "put") >= 22);
      assertTrue(m1.value("causalkv_writes_acknowledged_total", "op", "delete") >= 1);
      // waits and out-of-date answers, at the node that could not serve
      assertEquals(1, m3.value("causalkv_payload_out_of_date_total", "op", "get"));
      assertTrue(m3.value("causalkv_waits_total", "kind", "read", "outcome", "timeout") >= 1);
      assertTrue(m3.value("causalkv_wait_duration_seconds_count", "kind", "read", "outcome", "timeout") >= 1);
      assertTrue(m3.value("causalkv_wait_duration_seconds_sum", "kind", "read", "outcome", "timeout") >= 0.25,
          "the wait lasted CAUSAL_WAIT_MS");
      assertTrue(m1.value("causalkv_parked_requests", "kind", "pull") >= 0);
      // peers: up again after the heal, caught up, answers and their sizes counted
      await().atMost(Duration.ofSeconds(20)).until(() -> scrape(n3).value("causalkv_peer_up", "peer", n1) == 1
          && scrape(n3).value("causalkv_peer_behind_seconds", "peer", n1) == 0);
      assertTrue(m3.value("causalkv_pulls_total", "peer", n1, "result", "failed") >= 1);
      assertTrue(m3.value("causalkv_pulls_total", "peer", n1, "result", "complete") >= 1);
      assertTrue(m3.value("causalkv_pull_received_bytes_total", "peer", n1) > 0);
      assertTrue(m3.value("causalkv_pull_answer_versions_count", "peer", n1, "mode", "all") >= 1);
      assertEquals(0, m1.value("causalkv_peer_behind_versions", "peer", n2));
      // storage: fsyncs and group commits on the durable node only
      assertTrue(m1.value("causalkv_fsync_duration_seconds_count") >= 1);
      assertTrue(m1.value("causalkv_group_commit_size_sum") >= 20, "every write was made durable by some fsync");
      assertEquals(0, m3.value("causalkv_fsync_duration_seconds_count"), "the memory engine never fsyncs");
      // tombstones and siblings
      assertTrue(m1.value("causalkv_tombstones_collected_total") >= 1);
      assertEquals(0, m1.value("causalkv_tombstones_pending"));
      assertTrue(m1.value("causalkv_keys_by_siblings", "siblings", "1") >= 19);
      // the named counters of /admin/stats, and the JVM's
      assertTrue(m1.value("causalkv_events_total", "event", "op.put") >= 22);
      assertTrue(m1.value("jvm_memory_used_bytes", "area", "heap") > 0);
      assertTrue(m1.family("jvm_gc_collection_seconds").samples().size() > 0);
      assertTrue(m1.value("process_cpu_seconds_total") > 0);
      assertEquals(1, m1.value("causalkv_build_info"));
      assertTrue(first.families().containsKey("causalkv_build_info"));
    }
  }
}
