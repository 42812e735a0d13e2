package dev.causalkv.driver;

import dev.causalkv.protocol.Reply;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/** Requests waiting for the core's reply: an id for each, and where its reply goes when it comes. */
public final class Requests {

  private final AtomicLong ids = new AtomicLong();
  private final Map<Long, Consumer<Reply>> pending = new ConcurrentHashMap<>();

  /** Registers a request; its reply will be handed to {@code onReply} exactly once. */
  public long register(Consumer<Reply> onReply) {
    long id = ids.incrementAndGet();
    pending.put(id, onReply);
    return id;
  }

  /** Hands {@code r} to its request; a reply nobody waits for (its pull delta included) is dropped. */
  public void deliver(Reply r) {
    Consumer<Reply> c = pending.remove(r.id());
    if (c != null) {
      c.accept(r);
    } else if (r instanceof Reply.Pull p) {
      p.answer().delta().close();
    }
  }

  public int pendingCount() {
    return pending.size();
  }
}
