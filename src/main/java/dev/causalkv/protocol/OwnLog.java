package dev.causalkv.protocol;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * This origin's writes above a floor, superseded ones included: seq → key. It lets a peer pull
 * this node's own writes alone (docs/design.md §5: Bayou-style log-based anti-entropy with
 * truncation), so that a write crosses the network once per replica instead of being forwarded
 * by every node. Not persisted: after a restart the floor is the recovered seq, and pullers
 * behind it get complete deltas. Bounded: past {@link #MAX_ENTRIES} the oldest fall out.
 *
 * <p>Own seqs are issued one after another, so the log is a ring of keys indexed by
 * {@code seq - floor - 1}: adding, truncating and finding where a tail starts cost O(1), where a
 * sorted tree cost a descent per write on the write path (about a tenth of a 1-node PUT's CPU).
 */
final class OwnLog {

  /** Entries kept at most; an own-origin answer copies at most this many keys. */
  static final int MAX_ENTRIES = 100_000;

  private String[] ring = new String[1024];
  /** Index in {@link #ring} of the entry for seq {@code floor + 1}. */
  private int head;
  private int count;
  /** Every seq above the floor up to {@code floor + count} is in the log (the floor itself is not). */
  private long floor;

  OwnLog(long floor) {
    this.floor = floor;
  }

  void add(long seq, String key) {
    if (seq != floor + count + 1) {
      // A gap: this origin skipped seqs it never issued (a pulled claim beyond its seq, see
      // Replica.ownClaimsHonoured). Start again above it; pullers from below get complete answers.
      clearTo(seq - 1);
    }
    if (count == MAX_ENTRIES) dropOldest(1);
    if (count == ring.length) grow();
    ring[(head + count) & (ring.length - 1)] = key;
    count++;
  }

  /** True when the log holds every own write above {@code from}. */
  boolean covers(long from) {
    return from >= floor;
  }

  /** The keys written above {@code from} (at least the floor), each once, in the order of their first write there. */
  List<String> keysAfter(long from) {
    LinkedHashSet<String> keys = new LinkedHashSet<>();
    int mask = ring.length - 1;
    for (long i = Math.max(0, from - floor); i < count; i++) keys.add(ring[(head + (int) i) & mask]);
    return new ArrayList<>(keys);
  }

  /** Drops the writes up to {@code upTo}: every member has applied them. */
  void truncate(long upTo) {
    if (upTo <= floor) return;
    if (upTo - floor < count) {
      dropOldest((int) (upTo - floor));
    } else {
      // upTo passes every entry held: nothing is left, and the next seq follows upTo.
      clearTo(upTo);
    }
  }

  long floor() {
    return floor;
  }

  int size() {
    return count;
  }

  private void dropOldest(int n) {
    int mask = ring.length - 1;
    for (int i = 0; i < n; i++) ring[(head + i) & mask] = null;
    head = (head + n) & mask;
    count -= n;
    floor += n;
  }

  /** Empties the log (releasing its keys) with {@code newFloor} as the floor. */
  private void clearTo(long newFloor) {
    dropOldest(count);
    head = 0;
    floor = newFloor;
  }

  private void grow() {
    // Capacity stays a power of two so that an index is a mask away; at most 2^17 slots.
    String[] next = new String[ring.length * 2];
    for (int i = 0; i < count; i++) next[i] = ring[(head + i) & (ring.length - 1)];
    ring = next;
    head = 0;
  }
}
