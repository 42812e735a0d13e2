package dev.causalkv.core;

import java.util.HashMap;
import java.util.Map;

/** Test shorthand for vector clocks: {@code vc("A#1", 2, "B#1", 1)}. */
public final class Clocks {

  private Clocks() {}

  public static VectorClock vc(Object... kv) {
    Map<String, Long> m = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], ((Number) kv[i + 1]).longValue());
    return VectorClock.of(m);
  }
}
