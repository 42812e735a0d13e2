package dev.causalkv.core;

import java.util.Objects;

/** The unique name of one write: the origin that authored it and its position in that origin's sequence. */
public record Dot(String origin, long seq) implements Comparable<Dot> {

  public Dot {
    Objects.requireNonNull(origin, "origin");
    if (seq < 1) throw new IllegalArgumentException("seq must be >= 1, was " + seq);
  }

  @Override
  public int compareTo(Dot o) {
    int c = origin.compareTo(o.origin);
    return c != 0 ? c : Long.compare(seq, o.seq);
  }

  @Override
  public String toString() {
    return origin + ":" + seq;
  }
}
