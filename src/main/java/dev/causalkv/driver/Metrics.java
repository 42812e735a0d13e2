package dev.causalkv.driver;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Named monotonic counters the node exposes at {@code GET /admin/stats}. */
public final class Metrics {

  private final Map<String, LongAdder> counters = new ConcurrentHashMap<>();

  public void add(String name, long delta) {
    counters.computeIfAbsent(name, n -> new LongAdder()).add(delta);
  }

  public void inc(String name) {
    add(name, 1);
  }

  public long get(String name) {
    LongAdder a = counters.get(name);
    return a == null ? 0 : a.sum();
  }

  public Map<String, Long> snapshot() {
    Map<String, Long> out = new java.util.TreeMap<>();
    counters.forEach((k, v) -> out.put(k, v.sum()));
    return new LinkedHashMap<>(out);
  }
}
