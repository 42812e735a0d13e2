package dev.causalkv.core;

import java.util.List;
import java.util.Objects;

/**
 * Everything one step of the replica changes, to be committed atomically: the new siblings of
 * each touched key (with the old ones, so engines can update their per-origin index) and the new
 * node metadata.
 */
public record Batch(List<KeyChange> changes, NodeMeta meta) {

  /** One key's siblings before and after the step; {@code after} empty means the key is gone. */
  public record KeyChange(String key, Siblings before, Siblings after) {
    public KeyChange {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(before, "before");
      Objects.requireNonNull(after, "after");
    }
  }

  public Batch {
    changes = List.copyOf(changes);
    Objects.requireNonNull(meta, "meta");
  }
}
