package dev.causalkv.driver;

import dev.causalkv.core.VectorClock;
import dev.causalkv.protocol.PeerStatus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What this node knows of each peer it pulls from, for {@code GET /admin/peers}, {@code GET
 * /metrics} and the logs: derived from the core's per-peer snapshots ({@link PeerStatus}), which
 * the loop hands over after each step ({@link #observe}); peer up/down lines and the per-peer
 * pull counters come from the changes between consecutive snapshots.
 *
 * <p>"Behind" is measured against the peer's whole applied clock as its last completed answer
 * reported it: the writes the peer reflects that this node does not (yet), summed over origins.
 * "Seconds behind" is 0 while the peer answers and nothing it reported is missing here; otherwise
 * it is the time since this node last held everything the peer had told it about, an upper bound
 * on how stale this node may be relative to that peer.
 *
 * <p>Times are on the loop's monotonic clock ({@code nowMillis}), the one the core's snapshots use.
 */
public final class PeerHealth {

  private static final Logger LOG = Logger.getLogger(PeerHealth.class.getName());

  /** One peer, as {@code GET /admin/peers} shows it; {@code lastSuccessAgeMillis} is -1 before any completed pull. */
  public record Peer(
      String peer,
      String state,
      boolean reachable,
      long lastSuccessAgeMillis,
      long behindVersions,
      double behindSeconds,
      boolean catchingUp,
      String mode,
      List<String> view,
      long pulls,
      long failures) {}

  private final Supplier<VectorClock> localApplied;
  private final LongSupplier nowMillis;
  private final Metrics.Counter pulls;
  private List<PeerStatus> last = List.of();
  /** Per peer: what the logs and the seconds-behind figure remember between snapshots. Guarded by this. */
  private final Map<String, Link> links = new HashMap<>();

  /** What is remembered of one link beyond the core's snapshot. */
  private static final class Link {
    PeerStatus status;
    String loggedState = "unknown";
    long stateSinceMillis;
    long caughtUpMillis;

    Link(PeerStatus status, long now) {
      this.status = status;
      this.stateSinceMillis = now;
      this.caughtUpMillis = now;
    }
  }

  public PeerHealth(Supplier<VectorClock> localApplied, LongSupplier nowMillis, Metrics metrics) {
    this.localApplied = localApplied;
    this.nowMillis = nowMillis;
    this.pulls = metrics.counter("causalkv_pulls_total",
        "Pulls from each peer by result (complete, refused, failed)", "peer", "result");
    metrics.gauges("causalkv_peer_up", "1 while the last pull from the peer got an answer, else 0", "peer",
        () -> each(l -> l.status.reachable() ? 1 : 0));
    metrics.gauges("causalkv_peer_behind_versions",
        "Writes the peer reported holding that this node does not reflect yet", "peer",
        () -> each(l -> behind(l.status, localApplied.get())));
    metrics.gauges("causalkv_peer_behind_seconds",
        "0 while the peer answers and nothing it reported is missing, else seconds since this node was last caught up with it",
        "peer", () -> each(l -> behindSeconds(l, behind(l.status, localApplied.get()), nowMillis.getAsLong())));
    metrics.gauges("causalkv_peer_last_success_age_seconds",
        "Seconds since the last completed pull from the peer", "peer",
        () -> each(l -> l.status.lastCompletedMillis() < 0 ? Double.NaN
            : (nowMillis.getAsLong() - l.status.lastCompletedMillis()) / 1000.0));
    metrics.gauges("causalkv_peer_catching_up", "1 until the first complete catch-up pull from the peer succeeded",
        "peer", () -> each(l -> l.status.caughtUp() ? 0 : 1));
  }

  /**
   * The core's snapshot after a step at {@code now}: counts the pulls that ended since the last
   * one, logs links going up or down, forgets peers that left the view. The core replaces its
   * snapshot only when something in it changed, so an unchanged reference costs nothing.
   */
  public synchronized void observe(List<PeerStatus> peers, long now) {
    if (peers == last) return;
    last = peers;
    VectorClock mine = null;
    Map<String, PeerStatus> seen = new HashMap<>();
    for (PeerStatus s : peers) {
      seen.put(s.peer(), s);
      Link l = links.get(s.peer());
      if (l == null) {
        l = new Link(new PeerStatus(s.peer(), PeerStatus.Link.UNKNOWN, s.mode(), false, -1, 0, 0, 0, 0,
            VectorClock.EMPTY, null), now);
        links.put(s.peer(), l);
      }
      PeerStatus before = l.status;
      l.status = s;
      count(s.peer(), "complete", s.completed() - before.completed());
      count(s.peer(), "failed", s.failed() - before.failed());
      count(s.peer(), "refused", s.refused() - before.refused());
      if (s.lastCompletedMillis() != before.lastCompletedMillis()) {
        if (mine == null) mine = localApplied.get();
        if (behind(s, mine) == 0) l.caughtUpMillis = now;
      }
      logTransition(l, now);
    }
    links.keySet().removeIf(p -> !seen.containsKey(p));
  }

  private void count(String peer, String result, long delta) {
    if (delta > 0) pulls.add(delta, peer, result);
  }

  /**
   * Logs a change of the link's state once. Down is damped: a link is reported down after two
   * failed pulls in a row, so one pull cut short (a peer restarting its listener, a cancelled
   * call) makes no up/down pair.
   */
  private static void logTransition(Link l, long now) {
    PeerStatus s = l.status;
    String next = switch (s.link()) {
      case UP -> "up";
      case DOWN -> "down";
      case REFUSED -> "refused";
      case UNKNOWN -> "unknown";
    };
    String before = l.loggedState;
    if (next.equals(before) || next.equals("unknown")) return;
    if (next.equals("down") && s.failures() < 2 && !before.equals("unknown")) return;
    long since = now - l.stateSinceMillis;
    l.stateSinceMillis = now;
    l.loggedState = next;
    String peer = s.peer();
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

  // ---------------------------------------------------------------- reading

  /** Every peer this node pulls from, in peer order. */
  public synchronized List<Peer> snapshot() {
    long now = nowMillis.getAsLong();
    VectorClock mine = localApplied.get();
    List<Peer> out = new ArrayList<>();
    for (Link l : new TreeMap<>(links).values()) {
      PeerStatus s = l.status;
      long behind = behind(s, mine);
      out.add(new Peer(s.peer(), state(s), s.reachable(),
          s.lastCompletedMillis() < 0 ? -1 : now - s.lastCompletedMillis(), behind, behindSeconds(l, behind, now),
          !s.caughtUp(), mode(s.mode()), s.peerView() == null ? List.of() : s.peerView().members(),
          s.completed() + s.failed() + s.refused(), s.failed()));
    }
    return out;
  }

  private static String state(PeerStatus s) {
    return s.link().name().toLowerCase(java.util.Locale.ROOT);
  }

  private static String mode(PeerStatus.Mode m) {
    return switch (m) {
      case CATCH_UP -> "catch-up";
      case FORWARD -> "forward";
      case OWN -> "own";
    };
  }

  /** The writes {@code s}'s peer reported holding that {@code mine} does not reflect, summed over origins. */
  static long behind(PeerStatus s, VectorClock mine) {
    long n = 0;
    for (Map.Entry<String, Long> e : s.peerApplied().asMap().entrySet()) n += Math.max(0, e.getValue() - mine.get(e.getKey()));
    return n;
  }

  private static double behindSeconds(Link l, long behind, long now) {
    if (l.status.reachable() && behind == 0 && l.status.caughtUp()) return 0;
    return Math.max(0, now - l.caughtUpMillis) / 1000.0;
  }

  private synchronized Map<String, Number> each(ToDoubleFunction<Link> f) {
    Map<String, Number> out = new LinkedHashMap<>();
    for (Map.Entry<String, Link> e : new TreeMap<>(links).entrySet()) out.put(e.getKey(), f.applyAsDouble(e.getValue()));
    return out;
  }

  private static String seconds(long millis) {
    return String.format("%.1f s", millis / 1000.0);
  }
}
