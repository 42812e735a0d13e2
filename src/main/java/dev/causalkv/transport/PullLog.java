package dev.causalkv.transport;

import dev.causalkv.driver.Metrics;
import dev.causalkv.protocol.PullRequest;
import dev.causalkv.protocol.Send;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What the wire shows of pulls, for operators: catch-up start, progress (versions and percent
 * every {@link #PROGRESS_EVERY_MILLIS}) and end, drains before a removal, and the size of every
 * answer per peer. It only watches: whether an answer counts is the core's decision.
 *
 * <p>A catch-up is a pull of every origin asked to be answered at once (the core's catch-up
 * pulls; its forwarding pulls are held). The percentage is of the key count the peer puts in
 * the head of its answer, an estimate: versions and keys differ when keys have siblings.
 */
final class PullLog {

  private static final Logger LOG = Logger.getLogger(PullLog.class.getName());
  /** How often a catch-up in progress logs how far it has got. */
  static final long PROGRESS_EVERY_MILLIS = 5_000;

  private final LongSupplier nowMillis;
  private final Metrics.Histogram answerVersions;
  private final Metrics.Counter receivedBytes;
  /** Peers a catch-up has completed from since start-up: later catch-ups (forwarding) are logged at debug level. */
  private final Set<String> caughtUpFrom = ConcurrentHashMap.newKeySet();

  PullLog(Metrics metrics, LongSupplier nowMillis) {
    this.nowMillis = nowMillis;
    this.answerVersions = metrics.histogram("causalkv_pull_answer_versions",
        "Versions per complete pull answer, by peer and mode (own: the peer's own writes; all: every origin; drain: before a removal)",
        Metrics.COUNTS, "peer", "mode");
    this.receivedBytes = metrics.counter("causalkv_pull_received_bytes_total",
        "Bytes of pull answers received from each peer", "peer");
  }

  /** The watch of one pull about to be sent. */
  Watch watch(Send.Pull p) {
    return new Watch(p.peer(), p.request());
  }

  /** One pull's answer as it streams; called from its call's thread only. */
  final class Watch {
    private final String peer;
    private final String mode;
    private final boolean catchUp;
    private final boolean drain;
    private final boolean leaving;
    private final long startMillis = nowMillis.getAsLong();
    private Level level;
    private long keys = -1;
    private long versions;
    private long lastProgressMillis;
    private boolean began;

    private Watch(String peer, PullRequest r) {
      this.peer = peer;
      this.drain = r.mode() == PullRequest.Mode.DRAIN;
      this.leaving = r.leaving();
      this.catchUp = r.mode() == PullRequest.Mode.ALL && r.waitMillis() == 0;
      this.mode = switch (r.mode()) {
        case OWN -> "own";
        case DRAIN -> "drain";
        default -> "all";
      };
    }

    /** The head arrived; {@code peerKeys} is the peer's key count, -1 when it sent none. */
    void began(long peerKeys) {
      began = true;
      keys = peerKeys;
      lastProgressMillis = nowMillis.getAsLong();
      if (!catchUp) return;
      // the first catch-up from a peer is news; later ones (a forwarding check, a re-admission) are routine
      level = caughtUpFrom.contains(peer) || peerKeys == 0 ? Level.FINE : Level.INFO;
      LOG.log(level, () -> "catch-up from " + peer + " started" + (peerKeys >= 0 ? ": it holds about " + peerKeys + " keys" : ""));
    }

    long received() {
      return versions;
    }

    void versions(int n) {
      versions += n;
      if (!catchUp || !began) return;
      long now = nowMillis.getAsLong();
      if (now - lastProgressMillis < PROGRESS_EVERY_MILLIS) return;
      lastProgressMillis = now;
      long v = versions;
      String pct = keys > 0 ? String.format(" (%d%%)", Math.min(99, v * 100 / keys)) : "";
      LOG.info(() -> "catch-up from " + peer + ": " + v + " versions" + pct + " after " + seconds(now - startMillis));
      level = Level.INFO; // a catch-up long enough to report progress reports its end too
    }

    /** The end line arrived: {@code whole} when its count matched the versions received. */
    void ended(boolean whole, long bytes) {
      receivedBytes.add(bytes, peer);
      if (whole) answerVersions.observe(versions, peer, mode);
      long took = nowMillis.getAsLong() - startMillis;
      if (catchUp) {
        if (whole) {
          boolean first = caughtUpFrom.add(peer);
          Level l = level == Level.INFO || (first && versions > 0) || took >= 1000 ? Level.INFO : Level.FINE;
          LOG.log(l, () -> "catch-up from " + peer + " done: " + versions + " versions, "
              + String.format("%.1f MB", bytes / 1e6) + " in " + seconds(took));
        } else {
          LOG.warning(() -> "catch-up from " + peer + " ended incomplete (" + versions + " versions); it starts again");
        }
      } else if (drain) {
        drained(whole, took);
      }
    }

    /** The pull broke off, timed out, was cancelled or refused. */
    void failed(long bytes) {
      if (bytes > 0) receivedBytes.add(bytes, peer);
      long took = nowMillis.getAsLong() - startMillis;
      if (catchUp && began) {
        LOG.warning(() -> "catch-up from " + peer + " broke off after " + versions + " versions; it starts again when the peer answers");
      } else if (drain) {
        drained(false, took);
      }
    }

    private void drained(boolean whole, long took) {
      if (leaving) {
        if (whole) LOG.info(() -> "drained " + peer + " before its removal in " + took + " ms: " + versions + " versions");
        else LOG.warning(() -> "could not drain " + peer + " before its removal (no complete answer in " + took + " ms)");
      } else {
        LOG.log(whole ? Level.INFO : Level.FINE, () -> (whole ? "took " + versions + " versions" : "could not take the versions")
            + " of a node being removed from " + peer + " (" + took + " ms)");
      }
    }
  }

  private static String seconds(long millis) {
    return String.format("%.1f s", millis / 1000.0);
  }
}
