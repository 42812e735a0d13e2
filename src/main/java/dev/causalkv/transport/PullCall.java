package dev.causalkv.transport;

import dev.causalkv.core.Version;
import dev.causalkv.core.ViewState;
import dev.causalkv.driver.Metrics;
import dev.causalkv.protocol.Event;
import dev.causalkv.security.Keyring;
import dev.causalkv.wire.Json;
import dev.causalkv.wire.PullStreamCodec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.BufferedSource;

/**
 * One pull on the wire: reads the peer's streamed answer and turns it into events for the core,
 * versions in chunks as they arrive. It decides nothing: the core raises applied only on a whole
 * answer, and treats anything else as a failure.
 */
final class PullCall implements Callback {

  /** Versions per chunk handed to the core: bounds memory and the core's step time. */
  static final int CHUNK_VERSIONS = 512;
  /** ... and at most this many characters of them, so that large values keep the heap bounded. */
  static final long CHUNK_CHARS = 8L << 20;

  private final long pullId;
  private final Consumer<Event> events;
  private final Metrics metrics;
  private final PullLog.Watch watch;
  private final Runnable onDone;
  private final Keyring keyring;
  private final LongSupplier viewMaxCounter;
  private long bytes;

  PullCall(long pullId, Consumer<Event> events, Metrics metrics, PullLog.Watch watch, Runnable onDone, Keyring keyring,
      LongSupplier viewMaxCounter) {
    this.pullId = pullId;
    this.events = events;
    this.metrics = metrics;
    this.watch = watch;
    this.onDone = onDone;
    this.keyring = keyring;
    this.viewMaxCounter = viewMaxCounter;
  }

  /**
   * Whether a view from the peer may reach the core: a view whose counters are far ahead of this
   * node's (docs/threat-model.md) makes the whole answer count as failed, merged nowhere.
   */
  private boolean plausible(ViewState v) {
    String why = ViewState.implausible(v, viewMaxCounter.getAsLong());
    if (why == null) return true;
    metrics.inc("pull.view_refused");
    return false;
  }

  @Override
  public void onFailure(Call call, IOException e) {
    onDone.run();
    watch.failed(0);
    events.accept(new Event.PullFailed(pullId));
  }

  @Override
  public void onResponse(Call call, Response resp) {
    Event last;
    try (resp) {
      last = read(resp);
    } catch (IOException | RuntimeException e) {
      last = new Event.PullFailed(pullId);
    }
    onDone.run();
    if (last instanceof Event.PullFailed) metrics.inc("pull.transport_failed");
    if (last instanceof Event.AnswerEnded e) watch.ended(e.count() == watch.received(), bytes);
    else watch.failed(bytes);
    events.accept(last);
  }

  /** Streams the answer into the core; returns the final event (ended, refused or failed). */
  private Event read(Response resp) throws IOException {
    ResponseBody body = resp.body();
    if (body == null) return new Event.PullFailed(pullId);
    if (resp.code() == 403) {
      var o = Json.object(body.string());
      if (!o.has("view")) return new Event.PullFailed(pullId);
      ViewState v = Json.peerView(o.get("view"));
      return plausible(v) ? new Event.PullRefused(pullId, v) : new Event.PullFailed(pullId);
    }
    if (resp.code() != 200) return new Event.PullFailed(pullId);
    BufferedSource src = body.source();
    List<Version> chunk = new ArrayList<>();
    long chunkChars = 0;
    String line;
    while ((line = src.readUtf8Line()) != null) {
      bytes += line.length() + 1;
      PullStreamCodec.Line l = PullStreamCodec.decode(line);
      if (l instanceof PullStreamCodec.Ver v) {
        chunk.add(v.version());
        chunkChars += line.length();
        if (chunk.size() >= CHUNK_VERSIONS || chunkChars >= CHUNK_CHARS) {
          events.accept(new Event.AnswerVersions(pullId, chunk));
          watch.versions(chunk.size());
          chunk = new ArrayList<>();
          chunkChars = 0;
        }
      } else if (l instanceof PullStreamCodec.Head h) {
        if (!plausible(h.view())) return new Event.PullFailed(pullId);
        // the peer served this pull, so it takes this node for a member: its keys are ours to verify with
        if (keyring != null && !h.sealKeys().isEmpty() && keyring.learn(h.sealKeys()) > 0) metrics.inc("keyring.learnt");
        events.accept(new Event.AnswerBegan(pullId, h.view(), h.marks()));
        watch.began(h.keys());
      } else if (l instanceof PullStreamCodec.End e) {
        if (!chunk.isEmpty()) events.accept(new Event.AnswerVersions(pullId, chunk));
        watch.versions(chunk.size());
        metrics.add("pull.bytes_received", bytes);
        return new Event.AnswerEnded(pullId, e.marks(), e.applied(), e.count());
      }
    }
    // Merging a partial answer is safe; raising marks is not: the core only merges this part.
    if (!chunk.isEmpty()) events.accept(new Event.AnswerVersions(pullId, chunk));
    watch.versions(chunk.size());
    metrics.add("pull.bytes_received", bytes);
    metrics.inc("pull.truncated");
    return new Event.PullFailed(pullId);
  }
}
