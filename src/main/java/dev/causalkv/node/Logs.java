package dev.causalkv.node;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The node's logging (java.util.logging): one line per event on stderr, the level of the node's
 * own loggers chosen by {@code LOG_LEVEL} (error, warn, info, debug, trace; default info), the
 * libraries' at warning whatever it says.
 */
public final class Logs {

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneId.systemDefault());
  /** Held so the configured logger cannot be collected (and its level forgotten). */
  private static Logger ours;

  private Logs() {}

  /** The level {@code LOG_LEVEL} names; throws a one-line {@link Config.ConfigException} for anything else. */
  public static Level parse(String value) {
    if (value == null || value.isBlank()) return Level.INFO;
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "error", "severe" -> Level.SEVERE;
      case "warn", "warning" -> Level.WARNING;
      case "info" -> Level.INFO;
      case "debug", "fine" -> Level.FINE;
      case "trace", "finest", "all" -> Level.FINEST;
      case "off", "none" -> Level.OFF;
      default -> throw new Config.ConfigException(
          "LOG_LEVEL must be error, warn, info, debug or trace, was '" + value.trim() + "'");
    };
  }

  /** The LOG_LEVEL word for {@code level} (error, warn, info, debug, trace, off). */
  public static String name(Level level) {
    if (level == Level.OFF) return "off";
    return OneLine.level(level).toLowerCase(Locale.ROOT);
  }

  /** Installs the one-line stderr handler with the node's loggers at {@code level}. */
  public static void configure(Level level) {
    LogManager.getLogManager().reset();
    Logger root = Logger.getLogger("");
    Handler h = new ConsoleHandler(); // stderr
    h.setLevel(Level.ALL);
    h.setFormatter(new OneLine(level.intValue() <= Level.FINE.intValue()));
    root.addHandler(h);
    root.setLevel(Level.WARNING);
    ours = Logger.getLogger("dev.causalkv");
    ours.setLevel(level);
  }

  /** {@code 2025-01-31 12:00:00.123 INFO  transport.PeerTransport  message [: cause]}. */
  static final class OneLine extends Formatter {
    private final boolean stackTraces;

    OneLine(boolean stackTraces) {
      this.stackTraces = stackTraces;
    }

    @Override
    public String format(LogRecord r) {
      String name = r.getLoggerName() == null ? "" : r.getLoggerName().replace("dev.causalkv.", "");
      StringBuilder b = new StringBuilder(128)
          .append(TIME.format(Instant.ofEpochMilli(r.getMillis()))).append(' ')
          .append(String.format("%-7s", level(r.getLevel()))).append(' ')
          .append(name).append("  ").append(formatMessage(r));
      Throwable t = r.getThrown();
      if (t != null) {
        b.append(": ").append(t);
        if (stackTraces) {
          java.io.StringWriter w = new java.io.StringWriter();
          t.printStackTrace(new java.io.PrintWriter(w));
          b.append(System.lineSeparator()).append(w.toString().stripTrailing());
        }
      }
      return b.append(System.lineSeparator()).toString();
    }

    static String level(Level l) {
      if (l == Level.SEVERE) return "ERROR";
      if (l == Level.WARNING) return "WARN";
      if (l == Level.INFO) return "INFO";
      if (l == Level.FINE || l == Level.CONFIG) return "DEBUG";
      return "TRACE";
    }
  }
}
