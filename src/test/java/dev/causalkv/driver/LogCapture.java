package dev.causalkv.driver;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Collects the formatted lines one logger writes, at a chosen level, for a test's duration. */
public final class LogCapture extends Handler implements AutoCloseable {

  private final Logger logger;
  private final Level previous;
  private final List<String> lines = new ArrayList<>();

  public LogCapture(Class<?> of, Level level) {
    this.logger = Logger.getLogger(of.getName());
    this.previous = logger.getLevel();
    logger.setLevel(level);
    setLevel(level);
    logger.addHandler(this);
  }

  public synchronized List<String> lines() {
    return new ArrayList<>(lines);
  }

  public synchronized void clear() {
    lines.clear();
  }

  @Override
  public synchronized void publish(LogRecord r) {
    if (isLoggable(r)) lines.add(r.getLevel() + " " + new java.util.logging.SimpleFormatter().formatMessage(r));
  }

  @Override
  public void flush() {}

  @Override
  public void close() {
    logger.removeHandler(this);
    logger.setLevel(previous);
  }
}
