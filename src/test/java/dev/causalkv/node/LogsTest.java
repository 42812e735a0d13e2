package dev.causalkv.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.causalkv.driver.MeteredStore;
import dev.causalkv.driver.Metrics;
import dev.causalkv.storage.InMemoryStore;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/** LOG_LEVEL words, the one-line format, and the garbage-collection summary line. */
class LogsTest {

  @Test
  void logLevelWords() {
    assertEquals(Level.INFO, Logs.parse(null));
    assertEquals(Level.INFO, Logs.parse(" INFO "));
    assertEquals(Level.SEVERE, Logs.parse("error"));
    assertEquals(Level.WARNING, Logs.parse("warn"));
    assertEquals(Level.FINE, Logs.parse("debug"));
    assertEquals(Level.FINEST, Logs.parse("trace"));
    assertEquals(Level.OFF, Logs.parse("off"));
    assertEquals("debug", Logs.name(Logs.parse("debug")));
    assertEquals("warn", Logs.name(Level.WARNING));
    Config.ConfigException e = assertThrows(Config.ConfigException.class, () -> Logs.parse("loud"));
    assertTrue(e.getMessage().startsWith("LOG_LEVEL must be error, warn, info, debug or trace"), e.getMessage());
  }

  @Test
  void oneLineFormatShowsCauseAndStackOnlyAtDebug() {
    LogRecord r = new LogRecord(Level.WARNING, "storage: commit failed");
    r.setLoggerName("dev.causalkv.driver.MeteredStore");
    r.setThrown(new IllegalStateException("EIO"));
    String info = new Logs.OneLine(false).format(r);
    assertTrue(info.matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} WARN    driver\\.MeteredStore  storage: commit failed: "
        + "java\\.lang\\.IllegalStateException: EIO\\R"), info);
    assertEquals(1, info.lines().count());
    assertTrue(new Logs.OneLine(true).format(r).lines().count() > 1, "stack trace at debug");
  }

  @Test
  void gcSummarySaysWhatWasCollectedAndWhatIsPending() {
    MeteredStore store = new MeteredStore(InMemoryStore.create(), new Metrics());
    store.countExisting();
    GcSummary s = new GcSummary(store);
    List<LogRecord> records = new ArrayList<>();
    Logger logger = Logger.getLogger(GcSummary.class.getName());
    Handler h = new Handler() {
      @Override public void publish(LogRecord r) { records.add(r); }
      @Override public void flush() {}
      @Override public void close() {}
    };
    Level before = logger.getLevel();
    logger.setLevel(Level.ALL);
    logger.addHandler(h);
    try {
      s.dropped(7);
      s.dropped(5);
      s.log();
      s.log();
    } finally {
      logger.removeHandler(h);
      logger.setLevel(before);
    }
    assertEquals(Level.INFO, records.get(0).getLevel());
    assertTrue(records.get(0).getMessage().startsWith("gc: 12 tombstoned keys collected in the last "), records.get(0).getMessage());
    assertTrue(records.get(0).getMessage().contains(", 0 pending; jvm: "), records.get(0).getMessage());
    assertEquals(Level.FINE, records.get(1).getLevel(), "nothing collected since: not worth an info line");
  }
}
