package dev.causalkv.driver;

import dev.causalkv.core.VectorClock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What this node knows of each peer it pulls from: reachable or not, when it last got a complete
 * answer, how far it is behind the peer, whether it is still catching up; fed by the peer
 * transport's hooks, read by {@code GET /admin/peers}, {@code GET /metrics} and the logs (peer
 * up/down transitions, catch-up start, progress and end).
 *
 * <p>"Behind" is measured against the peer's whole applied clock as its last complete answer
 * reported it: the writes the peer reflects that this node does not (yet), summed over origins.
 * "Seconds behind" is 0 while the peer answers and nothing it reported is missing here; otherwise
 * it is the time since this node last held everything the peer had told it about, an upper bound
 * on how stale this node may be relative to that peer.
 */
public final class PeerHealth {

  private static final Logger LOG = Logger.getLogger(PeerHealth.class.getName());
  /** How often a catch-up in progress logs how far it has got. */
  static final long PROGRESS_EVERY_MILLIS = 5_000;

  /** The state of one link, as {@code GET /admin/peers} shows it. */
  public record Peer(
      String peer,
      String state,
      boolean reachable,
      long lastSuccessMillis,
      long behindVersions,
      double behindSeconds,
      boolean catchingUp,
      List<String> view,
      long pulls,
      long failures,
      long versionsReceived) {}

  private final Supplier<VectorClock> localApplied;
  private final LongSupplier nowMillis;
  private final Map<String, Link> links = new ConcurrentHashMap<>();
  private final Metrics.Counter pulls;
  private final Metrics.Counter receivedBytes;
  private final Metrics.Histogram answerVersions;

  public PeerHealth(Supplier<VectorClock> localApplied, LongSupplier nowMillis, Metrics metrics) {
    this.localApplied = localApplied;
    this.nowMillis = nowMillis;
    this.pulls = metrics.counter("causalkv_pulls_total",
        "Pulls from each peer by result (complete, refused, failed)", "peer", "result");
    this.receivedBytes = metrics.counter("causalkv_pull_received_bytes_total",
        "Bytes of complete pull answers received from each peer", "peer");
    this.answerVersions = metrics.histogram("causalkv_pull_answer_versions",
        "Versions per complete pull answer, by peer and mode (own: the peer's own writes; all: every origin)",
        Metrics.COUNTS, "peer", "mode");
    metrics.gauges("causalkv_peer_up", "1 while the last pull from the peer got an answer, else 0", "peer",
        () -> each(l -> l.reachable() ? 1 : 0));
    metrics.gauges("causalkv_peer_behind_versions",
        "Writes the peer reported holding that this node does not reflect yet", "peer", () -> each(this::behind));
    metrics.gauges("causalkv_peer_behind_seconds",
        "0 while the peer answers and nothing it reported is missing, else seconds since this node was last caught up with it",
        "peer", () -> each(l -> behindSeconds(l, behind(l))));
    metrics.gauges("causalkv_peer_last_success_age_seconds",
        "Seconds since the last complete answer from the peer", "peer",
        () -> each(l -> l.lastSuccess == 0 ? Double.NaN : (nowMillis.getAsLong() - l.lastSuccess) / 1000.0));
    metrics.gauges("causalkv_peer_catching_up", "1 until the first complete catch-up pull from the peer succeeded",
        "peer", () -> each(l -> l.catchingUp ? 1 : 0));
  }

  /** For transports built without a node around them (tests): records, exports nothing anyone reads. */
  public static PeerHealth detached() {
    return new PeerHealth(() -> VectorClock.EMPTY, System::currentTimeMillis, new Metrics());
  }

  // ---------------------------------------------------------------- hooks of the transport

  /** A catch-up (complete) pull from {@code peer} is about to start. */
  public void catchUpStarted(String peer) {
    link(peer).catchingUp = true;
  }

  /** The peer started answering: the first line of its answer, with its view and (if sent) its key count. */
  public void answerStarted(String peer, List<String> peerView, long peerKeys) {
    Link l = link(peer);
    l.view = List.copyOf(peerView);
    if (l.catchingUp && !l.catchUpLogged) {
      l.catchUpLogged = true;
      l.answerStartMillis = nowMillis.getAsLong();
      l.lastProgressMillis = l.answerStartMillis;
      l.peerKeys = peerKeys;
      LOG.log(peerKeys == 0 ? Level.FINE : Level.INFO,
          () -> "catch-up from " + peer + " started" + (peerKeys >= 0 ? ": it holds about " + peerKeys + " keys" : ""));
    }
  }

  /** {@code versions} versions of the answer in progress have been merged so far. */
  public void merged(String peer, long versions) {
    Link l = link(peer);
    if (!l.catchingUp || !l.catchUpLogged) return;
    long now = nowMillis.getAsLong();
    if (now - l.lastProgressMillis < PROGRESS_EVERY_MILLIS) return;
    l.lastProgressMillis = now;
    String pct = l.peerKeys > 0 ? String.format(" (%d%%)", Math.min(99, versions * 100 / l.peerKeys)) : "";
    LOG.info(() -> "catch-up from " + peer + ": " + versions + " versions" + pct + " after "
        + seconds(now - l.answerStartMillis));
  }

  /** A complete answer's size, for the pull-size metrics. */
  public void answered(String peer, boolean ownOnly, long versions, long bytes) {
    answerVersions.observe(versions, peer, ownOnly ? "own" : "all");
    receivedBytes.add(bytes, peer);
    Link l = link(peer);
    l.versionsReceived += versions;
    l.lastVersions = versions;
    l.lastBytes = bytes;
  }

  /**
   * A pull from {@code peer} ended: {@code complete} with the peer's applied clock, or refused,
   * or failed. Logs up/down transitions and the end of a catch-up.
   */
  public void pullEnded(String peer, boolean complete, boolean refused, VectorClock peerApplied) {
    Link l = link(peer);
    long now = nowMillis.getAsLong();
    String next = complete ? "up" : refused ? "refused" : "down";
    pulls.inc(peer, complete ? "complete" : refused ? "refused" : "failed");
    l.pulls++;
    if (!complete) l.failures++;
    l.state = next;
    l.consecutiveFailures = complete ? 0 : l.consecutiveFailures + 1;
    if (complete) {
      l.lastSuccess = now;
      if (peerApplied != null) l.peerApplied = peerApplied;
      if (behind(l) == 0) l.caughtUpMillis = now;
    }
    // Logged transitions are damped: a link is reported down after two failed pulls in a row, so
    // one pull cut short (a peer restarting its listener, a cancelled call) makes no up/down pair.
    String before = l.loggedState;
    if (!next.equals(before) && (!next.equals("down") || l.consecutiveFailures >= 2 || before.equals("unknown"))) {
      long since = now - l.stateSince;
      l.stateSince = now;
      l.loggedState = next;
      String was = before.equals("unknown") ? "" : " (was " + before + " for " + seconds(since) + ")";
      // a peer not up yet when this node starts is usual; one that goes away is worth a warning
      Level level = next.equals("up") || before.equals("unknown") ? Level.INFO : Level.WARNING;
      LOG.log(level, () -> switch (next) {
        case "up" -> "peer " + peer + " is up" + was;
        case "refused" -> "peer " + peer + " refuses this node's pulls: it does not list this node in its view" + was;
        default -> "peer " + peer + (before.equals("unknown") ? " is not reachable (yet)" : " is unreachable")
            + ", retrying with backoff" + was;
      });
    }
    if (l.catchingUp && complete) {
      l.catchingUp = false;
      long took = l.catchUpLogged ? now - l.answerStartMillis : 0;
      long versions = l.lastVersions;
      long bytes = l.lastBytes;
      Level level = versions > 0 || took >= 1000 ? Level.INFO : Level.FINE;
      LOG.log(level, () -> "catch-up from " + peer + " done: " + versions + " versions, "
          + String.format("%.1f MB", bytes / 1e6) + " in " + seconds(took));
      l.catchUpLogged = false;
    } else if (l.catchingUp && l.catchUpLogged && !complete) {
      l.catchUpLogged = false;
      LOG.warning(() -> "catch-up from " + peer + " broke off; it starts again when the peer answers");
    }
  }

  /** The peer left the view: its puller stopped. */
  public void forget(String peer) {
    links.remove(peer);
  }

  // ---------------------------------------------------------------- reading

  /** Every known peer's link, by peer id. */
  public List<Peer> snapshot() {
    List<Peer> out = new ArrayList<>();
    for (Map.Entry<String, Link> e : new TreeMap<>(links).entrySet()) {
      Link l = e.getValue();
      long behind = behind(l);
      out.add(new Peer(e.getKey(), l.state, l.reachable(), l.lastSuccess, behind, behindSeconds(l, behind),
          l.catchingUp, l.view, l.pulls, l.failures, l.versionsReceived));
    }
    return out;
  }

  private long behind(Link l) {
    VectorClock theirs = l.peerApplied;
    if (theirs == null) return 0;
    VectorClock mine = localApplied.get();
    long n = 0;
    for (Map.Entry<String, Long> e : theirs.asMap().entrySet()) n += Math.max(0, e.getValue() - mine.get(e.getKey()));
    return n;
  }

  private double behindSeconds(Link l, long behind) {
    if (l.reachable() && behind == 0 && !l.catchingUp) return 0;
    return (nowMillis.getAsLong() - l.caughtUpMillis) / 1000.0;
  }

  private Map<String, Number> each(java.util.function.ToDoubleFunction<Link> f) {
    Map<String, Number> out = new TreeMap<>();
    links.forEach((p, l) -> out.put(p, f.applyAsDouble(l)));
    return out;
  }

  private Link link(String peer) {
    return links.computeIfAbsent(peer, p -> new Link(nowMillis.getAsLong()));
  }

  private static String seconds(long millis) {
    return String.format("%.1f s", millis / 1000.0);
  }

  /**
   * Mutable per-peer state, written by that peer's puller thread (a drain of the peer, run by a
   * view change, may add to the answer figures at the same time: they are for display only).
   */
  private static final class Link {
    volatile String state = "unknown";
    volatile String loggedState = "unknown";
    volatile int consecutiveFailures;
    volatile long stateSince;
    volatile long lastSuccess;
    volatile long caughtUpMillis;
    volatile VectorClock peerApplied;
    volatile boolean catchingUp;
    volatile List<String> view = List.of();
    volatile long pulls;
    volatile long failures;
    volatile long versionsReceived;
    // catch-up progress
    volatile boolean catchUpLogged;
    volatile long answerStartMillis;
    volatile long lastProgressMillis;
    volatile long peerKeys = -1;
    volatile long lastVersions;
    volatile long lastBytes;

    Link(long now) {
      this.stateSince = now;
      this.caughtUpMillis = now;
    }

    boolean reachable() {
      return state.equals("up") || state.equals("refused");
    }
  }
}
