package dev.causalkv.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The replicated membership: one add/remove register per node id, ordered by a Lamport stamp.
 *
 * <p>Merge keeps, per member, the entry with the greater {@code (counter, author)} stamp, so
 * concurrent view changes made at different nodes converge on every node whatever the order in
 * which they are learnt. Entries from the {@code VIEW} environment variable carry stamp 0 and
 * lose to any recorded change. Immutable.
 */
public final class ViewState {

  /**
   * One member's register: whether it is in the view, and the change that said so. A removal
   * also carries {@code drained}: how far the remover had applied the removed node's origins
   * when it recorded the removal. Other members may ignore those origins only up to there, and
   * only once they have applied that much themselves (see Replica.covered).
   */
  public record Entry(boolean present, long counter, String author, VectorClock drained) {
    public Entry {
      Objects.requireNonNull(author, "author");
      drained = drained == null ? VectorClock.EMPTY : drained;
    }

    public Entry(boolean present, long counter, String author) {
      this(present, counter, author, VectorClock.EMPTY);
    }

    boolean newerThan(Entry o) {
      if (counter != o.counter) return counter > o.counter;
      int c = author.compareTo(o.author);
      if (c != 0) return c > 0;
      return !present && o.present; // identical stamps cannot differ; if they do, removal wins
    }

    boolean sameStamp(Entry o) {
      return counter == o.counter && author.equals(o.author) && present == o.present;
    }
  }

  /**
   * The join of two entries: the newer stamp wins; for one and the same removal, the drained
   * marks join too (pointwise maximum), because members raise them with what they hold of the
   * removed node's writes (see {@link #raiseDrained}).
   */
  private static Entry join(Entry a, Entry b) {
    if (a.sameStamp(b)) {
      VectorClock d = a.drained().merge(b.drained());
      return d.equals(a.drained()) ? a : new Entry(a.present(), a.counter(), a.author(), d);
    }
    return b.newerThan(a) ? b : a;
  }

  public static final ViewState EMPTY = new ViewState(new TreeMap<>());

  /**
   * The highest Lamport counter a view entry may carry. A change adds one to the highest seen, so
   * honest counters count view changes: this bound is never reached by them, and an entry above
   * it (a forged {@code Long.MAX_VALUE}, say) could only win every merge and leave no room for
   * the next change.
   */
  public static final long MAX_COUNTER = 1L << 40;
  /**
   * How far ahead of the receiver's highest counter an incoming entry may be: one per change the
   * receiver missed, so a million is far more than any honest gap, and a single message cannot
   * use up the counter's range.
   */
  public static final long MAX_COUNTER_AHEAD = 1L << 20;
  /** Members a view may list at most (present or removed). */
  public static final int MAX_ENTRIES = 10_000;

  private final TreeMap<String, Entry> entries;

  private ViewState(TreeMap<String, Entry> entries) {
    this.entries = entries;
  }

  /** The initial view from configuration: every listed member present at stamp 0. */
  public static ViewState initial(List<String> members) {
    TreeMap<String, Entry> m = new TreeMap<>();
    for (String id : members) m.put(id, new Entry(true, 0, ""));
    return new ViewState(m);
  }

  public static ViewState of(Map<String, Entry> entries) {
    return new ViewState(new TreeMap<>(entries));
  }

  public Map<String, Entry> entries() {
    return Collections.unmodifiableMap(entries);
  }

  /** The members currently in the view, sorted. */
  public List<String> members() {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, Entry> e : entries.entrySet()) if (e.getValue().present()) out.add(e.getKey());
    return out;
  }

  public boolean contains(String member) {
    Entry e = entries.get(member);
    return e != null && e.present();
  }

  /** True when a recorded change removed {@code member} (as opposed to never having listed it). */
  public boolean isRemoved(String member) {
    Entry e = entries.get(member);
    return e != null && !e.present();
  }

  /** Only the changes recorded at run time (stamp above 0), without the entries configured at start-up. */
  public ViewState recorded() {
    TreeMap<String, Entry> m = new TreeMap<>();
    for (Map.Entry<String, Entry> e : entries.entrySet()) if (e.getValue().counter() > 0) m.put(e.getKey(), e.getValue());
    return new ViewState(m);
  }

  /** The highest Lamport counter this view has seen. */
  public long maxCounter() {
    long max = 0;
    for (Entry e : entries.values()) max = Math.max(max, e.counter());
    return max;
  }

  /** This view with {@code member} added (or removed) by {@code author}, stamped after all seen. */
  public ViewState with(String member, boolean present, String author) {
    return with(member, present, author, VectorClock.EMPTY);
  }

  /** As {@link #with(String, boolean, String)}, recording what the author drained of a removed member. */
  public ViewState with(String member, boolean present, String author, VectorClock drained) {
    TreeMap<String, Entry> m = new TreeMap<>(entries);
    // Counters that arrive are bounded (see implausible), so this cannot overflow; assert it all the same.
    m.put(member, new Entry(present, Math.addExact(maxCounter(), 1), author, drained));
    return new ViewState(m);
  }

  /**
   * Why {@code incoming} must not be merged into a view whose highest counter is {@code localMax}
   * (null: it may). Every entry's counter must be within {@link #MAX_COUNTER} and at most
   * {@link #MAX_COUNTER_AHEAD} above {@code localMax}. A message carrying such a view is refused
   * whole: merging only its other entries would still let one bad entry decide what the sender meant.
   */
  public static String implausible(ViewState incoming, long localMax) {
    long limit = Math.min(MAX_COUNTER, localMax + MAX_COUNTER_AHEAD);
    for (Map.Entry<String, Entry> e : incoming.entries.entrySet()) {
      long c = e.getValue().counter();
      if (c < 0 || c > limit) {
        return "view entry for " + e.getKey() + " has counter " + c + ", above " + limit
            + " (this node's highest is " + localMax + ")";
      }
    }
    return null;
  }

  /** Per-member join by stamp (and of the drained marks of one removal): commutative, associative and idempotent. */
  public ViewState merge(ViewState other) {
    TreeMap<String, Entry> m = null;
    for (Map.Entry<String, Entry> e : other.entries.entrySet()) {
      Entry mine = entries.get(e.getKey());
      Entry joined = mine == null ? e.getValue() : join(mine, e.getValue());
      if (joined != mine) {
        if (m == null) m = new TreeMap<>(entries);
        m.put(e.getKey(), joined);
      }
    }
    return m == null ? this : new ViewState(m);
  }

  /**
   * This view with the drained marks of {@code member}'s removal raised to include {@code held}:
   * a member that holds more of the removed node's writes than its remover drained says so, and
   * every member's reads then wait for those writes (which flow to them from it) instead of
   * ignoring them. The stamp stays: it is the same removal, known better.
   */
  public ViewState raiseDrained(String member, VectorClock held) {
    Entry e = entries.get(member);
    if (e == null || e.present() || e.drained().dominatesOrEquals(held)) return this;
    TreeMap<String, Entry> m = new TreeMap<>(entries);
    m.put(member, new Entry(false, e.counter(), e.author(), e.drained().merge(held)));
    return new ViewState(m);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ViewState v && entries.equals(v.entries);
  }

  @Override
  public int hashCode() {
    return entries.hashCode();
  }

  @Override
  public String toString() {
    return entries.toString();
  }
}
