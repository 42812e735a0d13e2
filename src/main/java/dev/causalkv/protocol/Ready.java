package dev.causalkv.protocol;

import dev.causalkv.core.Batch;
import java.util.List;

/**
 * What one step asks of its driver (the shape of etcd-io/raft's Ready): persist {@code persist}
 * first (null: nothing), then call {@link NodeCore#advance}, which returns the pull answers that
 * are due, opened on the persisted state; send {@code replies}, those answers and {@code sends}
 * once the store is durable; cancel the pulls in {@code cancels}; and step {@link Event.Tick} at
 * {@code wakeAtMillis} at the latest ({@link Long#MAX_VALUE}: no wish to be woken).
 */
public record Ready(Batch persist, List<Reply> replies, List<Send> sends, List<Long> cancels, long wakeAtMillis) {

  /** Nothing to do and no wish to be woken. */
  public boolean isEmpty() {
    return persist == null && replies.isEmpty() && sends.isEmpty() && cancels.isEmpty();
  }
}
