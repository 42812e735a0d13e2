package dev.causalkv.protocol;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.TreeMap;

/**
 * This origin's writes above a floor, superseded ones included: seq → key. It lets a peer pull
 * this node's own writes alone (docs/design.md §5: Bayou-style log-based anti-entropy with
 * truncation), so that a write crosses the network once per replica instead of being forwarded
 * by every node. Not persisted: after a restart the floor is the recovered seq, and pullers
 * behind it get complete deltas. Bounded: past {@link #MAX_ENTRIES} the oldest fall out.
 */
final class OwnLog {

  /** Entries kept at most; an own-origin answer copies at most this many keys. */
  static final int MAX_ENTRIES = 100_000;

  private final TreeMap<Long, String> log = new TreeMap<>();
  /** Every seq above the floor is in the log (the floor itself is not). */
  private long floor;

  OwnLog(long floor) {
    this.floor = floor;
  }

  void add(long seq, String key) {
    log.put(seq, key);
    if (log.size() > MAX_ENTRIES) floor = log.pollFirstEntry().getKey();
  }

  /** True when the log holds every own write above {@code from}. */
  boolean covers(long from) {
    return from >= floor;
  }

  /** The keys written above {@code from}, each once, in the order of their first write there. */
  List<String> keysAfter(long from) {
    return new ArrayList<>(new LinkedHashSet<>(log.tailMap(from, false).values()));
  }

  /** Drops the writes up to {@code upTo}: every member has applied them. */
  void truncate(long upTo) {
    if (upTo <= floor) return;
    log.headMap(upTo, true).clear();
    floor = upTo;
  }

  long floor() {
    return floor;
  }

  int size() {
    return log.size();
  }
}
