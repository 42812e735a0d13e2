package dev.causalkv.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.causalkv.core.VectorClock;
import dev.causalkv.core.ViewState;
import dev.causalkv.driver.LogCapture;
import dev.causalkv.driver.Metrics;
import dev.causalkv.protocol.PullRequest;
import dev.causalkv.protocol.Send;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;

/** Catch-up start, progress with percent and end, drains, and answer sizes, as the wire shows them; manual clock. */
class PullLogTest {

  final AtomicLong now = new AtomicLong(1_000_000);
  final Metrics metrics = new Metrics();
  final PullLog log = new PullLog(metrics, now::get);

  static Send.Pull pull(String peer, PullRequest.Mode mode, long waitMillis, boolean leaving) {
    return new Send.Pull(1, peer, new PullRequest("a", VectorClock.EMPTY, VectorClock.EMPTY,
        ViewState.initial(List.of("a", peer)), mode, waitMillis, leaving));
  }

  String text() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    metrics.writeText(out);
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void catchUpLogsItsStartProgressWithPercentAndEnd() throws Exception {
    try (LogCapture lines = new LogCapture(PullLog.class, Level.INFO)) {
      PullLog.Watch w = log.watch(pull("b", PullRequest.Mode.ALL, 0, false));
      w.began(1000);
      w.versions(100); // too soon for a progress line
      now.addAndGet(PullLog.PROGRESS_EVERY_MILLIS);
      w.versions(400);
      now.addAndGet(2000);
      w.versions(500);
      w.ended(w.received() == 1000, 5_000_000);
      assertEquals(List.of("INFO catch-up from b started: it holds about 1000 keys",
          "INFO catch-up from b: 500 versions (50%) after 5.0 s",
          "INFO catch-up from b done: 1000 versions, 5.0 MB in 7.0 s"), lines.lines());
      lines.clear();
      // pulls after the catch-up log nothing: own-origin pulls, forwarding pulls (held), a quick second catch-up
      PullLog.Watch own = log.watch(pull("b", PullRequest.Mode.OWN, 250, false));
      own.began(1000);
      own.versions(10);
      own.ended(true, 100);
      PullLog.Watch again = log.watch(pull("b", PullRequest.Mode.ALL, 0, false));
      again.began(1000);
      again.versions(3);
      again.ended(true, 300);
      assertEquals(List.of(), lines.lines());
      String t = text();
      assertTrue(t.contains("causalkv_pull_answer_versions_count{mode=\"all\",peer=\"b\"} 2"), t);
      assertTrue(t.contains("causalkv_pull_answer_versions_count{mode=\"own\",peer=\"b\"} 1"), t);
      assertTrue(t.contains("causalkv_pull_received_bytes_total{peer=\"b\"} 5000400.0"), t);
    }
  }

  @Test
  void aCatchUpThatBreaksOffSaysSo() {
    try (LogCapture lines = new LogCapture(PullLog.class, Level.INFO)) {
      PullLog.Watch w = log.watch(pull("b", PullRequest.Mode.ALL, 0, false));
      w.began(10);
      w.versions(4);
      w.failed(200);
      assertTrue(lines.lines().get(1).startsWith("WARNING catch-up from b broke off after 4 versions"), lines.lines().toString());
      lines.clear();
      log.watch(pull("c", PullRequest.Mode.ALL, 0, false)).failed(0); // never reached: the up/down lines say so
      assertEquals(List.of(), lines.lines());
    }
  }

  @Test
  void drainsBeforeARemovalSayWhetherTheyWereWhole() {
    try (LogCapture lines = new LogCapture(PullLog.class, Level.INFO)) {
      PullLog.Watch ok = log.watch(pull("b", PullRequest.Mode.DRAIN, 0, true));
      ok.began(5);
      ok.versions(3);
      now.addAndGet(12);
      ok.ended(true, 100);
      assertEquals(List.of("INFO drained b before its removal in 12 ms: 3 versions"), lines.lines());
      lines.clear();
      log.watch(pull("c", PullRequest.Mode.DRAIN, 0, true)).failed(0);
      assertTrue(lines.lines().get(0).startsWith("WARNING could not drain c before its removal"), lines.lines().toString());
    }
  }
}
