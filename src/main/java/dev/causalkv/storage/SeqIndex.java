package dev.causalkv.storage;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ObjLongConsumer;

/**
 * One origin's live seqs and the key each names, in seq order: what {@link InMemoryStore} keeps
 * per origin to answer deltas.
 *
 * <p>Writes arrive in seq order almost always, and each replaces an older version of its key, so
 * the index is a sorted pair of arrays that appends in O(1) and removes by leaving a hole (found
 * by binary search, compacted once half the slots are holes). A seq that arrives below the last
 * one (a pull answer lists versions in key order, not seq order) goes to a small tree that is
 * folded into the arrays once it grows past an eighth of them. A red-black tree per origin did
 * the same with a descent, an entry and a boxed key per write, about a tenth of a 1-node PUT's
 * CPU.
 */
final class SeqIndex {

  private long[] seqs = new long[16];
  private String[] keys = new String[16];
  /** Slots in use, holes included; the last one in use is never a hole. */
  private int size;
  /** Slots holding a key. */
  private int live;
  /** Seqs that arrived below the arrays' last, none of them also in the arrays. */
  private final TreeMap<Long, String> late = new TreeMap<>();

  void put(long seq, String key) {
    if (!late.isEmpty() && late.replace(seq, key) != null) return;
    if (size == 0 || seq > seqs[size - 1]) {
      if (size == seqs.length) grow();
      seqs[size] = seq;
      keys[size] = key;
      size++;
      live++;
      return;
    }
    int i = Arrays.binarySearch(seqs, 0, size, seq);
    if (i >= 0) {
      if (keys[i] == null) live++;
      keys[i] = key;
      return;
    }
    late.put(seq, key);
    if (late.size() > Math.max(64, live / 8)) fold();
  }

  void remove(long seq) {
    if (size > 0 && seq <= seqs[size - 1]) {
      int i = Arrays.binarySearch(seqs, 0, size, seq);
      if (i >= 0 && keys[i] != null) {
        keys[i] = null;
        live--;
        while (size > 0 && keys[size - 1] == null) size--;
        if (size > 32 && live < size / 2) compact();
        return;
      }
    }
    if (!late.isEmpty()) late.remove(seq);
  }

  boolean isEmpty() {
    return live == 0 && late.isEmpty();
  }

  /** The highest live seq, 0 when there is none (seqs start at 1). */
  long last() {
    long a = size == 0 ? 0 : seqs[size - 1];
    return late.isEmpty() ? a : Math.max(a, late.lastKey());
  }

  /** Every live seq above {@code since} with its key, not in seq order. */
  void forEachAfter(long since, ObjLongConsumer<String> visit) {
    int i = Arrays.binarySearch(seqs, 0, size, since);
    for (i = i >= 0 ? i + 1 : -i - 1; i < size; i++) {
      if (keys[i] != null) visit.accept(keys[i], seqs[i]);
    }
    for (Map.Entry<Long, String> e : late.tailMap(since, false).entrySet()) visit.accept(e.getValue(), e.getKey());
  }

  /** Slots held (for tests: bounded by twice the live seqs, plus the late ones). */
  int slots() {
    return size + late.size();
  }

  private void grow() {
    // remove() keeps at least half the slots live, so a full array is worth doubling.
    seqs = Arrays.copyOf(seqs, seqs.length * 2);
    keys = Arrays.copyOf(keys, seqs.length);
  }

  private void compact() {
    int j = 0;
    for (int i = 0; i < size; i++) {
      if (keys[i] == null) continue;
      seqs[j] = seqs[i];
      keys[j] = keys[i];
      j++;
    }
    Arrays.fill(keys, j, size, null);
    size = j;
    if (seqs.length > 4 * Math.max(16, size)) {
      seqs = Arrays.copyOf(seqs, 2 * Math.max(16, size));
      keys = Arrays.copyOf(keys, seqs.length);
    }
  }

  /** Merges the late seqs into the arrays, dropping the holes on the way: O(arrays + late). */
  private void fold() {
    int n = live + late.size();
    long[] s = new long[Math.max(16, n + n / 2)];
    String[] k = new String[s.length];
    int j = 0;
    int i = 0;
    for (Map.Entry<Long, String> e : late.entrySet()) {
      long ls = e.getKey();
      for (; i < size && seqs[i] < ls; i++) {
        if (keys[i] == null) continue;
        s[j] = seqs[i];
        k[j++] = keys[i];
      }
      s[j] = ls;
      k[j++] = e.getValue();
    }
    for (; i < size; i++) {
      if (keys[i] == null) continue;
      s[j] = seqs[i];
      k[j++] = keys[i];
    }
    seqs = s;
    keys = k;
    size = j;
    live = j;
    late.clear();
  }
}
