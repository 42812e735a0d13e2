package dev.causalkv.protocol;

import dev.causalkv.core.Siblings;
import dev.causalkv.core.Store;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.driver.NodeLoop;
import dev.causalkv.storage.InMemoryStore;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * A hand-driven cluster for unit tests of the protocol core: real {@link NodeCore}s and
 * {@link NodeLoop}s, a reliable network whose messages wait in a queue until the test delivers
 * them, links the test can cut or make drop packets, and a manual clock. Nothing random (each
 * node has its own fixed seed, so their retries do not march in step): each test spells out its
 * scenario step by step.
 */
final class Cores {

  /** One node. */
  final class N {
    final String id;
    final List<String> view;
    Store store;
    NodeCore core;
    NodeLoop loop;
    final Map<Long, Consumer<Reply>> pending = new HashMap<>();
    /** Pulls this node cancelled: their answers are dropped, as a closed call's would be. */
    final Set<Long> cancelled = new HashSet<>();
    long requestIds;
    int generation;

    N(String id, List<String> view, Store store) {
      this.id = id;
      this.view = view;
      this.store = store;
      open();
    }

    void open() {
      NodeCore.Config cfg = new NodeCore.Config(id, view, causalWaitMillis, 5_000, 2_000, maxParked, 1_000, 100, 42 + id.hashCode(), bugs)
          .withCausalOff(causalOff);
      core = NodeCore.open(store, cfg, () -> "1", new NodeCore.Counter() {
        @Override
        public void add(String n, long d) {
          counters.merge(n, d, Long::sum);
        }

        @Override
        public void observe(String n, double v) {
          observations.computeIfAbsent(id + " " + n, k -> new ArrayList<>()).add(v);
        }
      });
      int gen = ++generation;
      loop = new NodeLoop(core, store, new NodeLoop.Effects() {
        @Override
        public void deliver(Reply r) {
          if (gen != generation) return;
          Consumer<Reply> c = pending.remove(r.id());
          if (c != null) c.accept(r);
          else if (r instanceof Reply.Pull p) p.answer().delta().close();
        }

        @Override
        public void send(Send s) {
          if (gen == generation) outbox.add(new Message(id, s));
        }

        @Override
        public void cancel(long pullId) {
          cancelled.add(pullId);
        }

        @Override
        public void wakeAt(long atMillis) {}
      }, () -> now);
      loop.step(new Event.Tick());
    }

    long register(Consumer<Reply> c) {
      long rid = ++requestIds;
      pending.put(rid, c);
      return rid;
    }

    /** A client operation; returns its reply, or null while it waits (then {@link #settle} and look again). */
    Reply op(Event.Op op, String key, String value, VectorClock payload) {
      Reply[] out = new Reply[1];
      long rid = register(r -> out[0] = r);
      loop.clientOp(new Event.ClientOp(rid, op, key, value, payload, now));
      return out[0];
    }

    Reply.Client put(String key, String value, VectorClock payload) {
      return (Reply.Client) op(Event.Op.PUT, key, value, payload);
    }

    Reply get(String key, VectorClock payload) {
      return op(Event.Op.GET, key, null, payload);
    }

    Reply delete(String key, VectorClock payload) {
      return op(Event.Op.DELETE, key, null, payload);
    }

    /** A view change asked of this node; its reply lands in the returned holder. */
    Reply[] viewChange(String member, boolean add) {
      Reply[] out = new Reply[1];
      long rid = register(r -> out[0] = r);
      loop.step(new Event.ViewChangeRequested(rid, member, add));
      return out;
    }

    Siblings siblings(String key) {
      return store.get(key);
    }

    VectorClock applied() {
      return core.meta().applied();
    }

    /** kill -9 and restart over the same store. */
    void restart() {
      pending.clear();
      outbox.removeIf(m -> m.from.equals(id));
      open();
    }
  }

  record Message(String from, Send send) {}

  final Map<String, N> nodes = new LinkedHashMap<>();
  final ArrayDeque<Message> outbox = new ArrayDeque<>();
  final Set<String> cut = new HashSet<>();
  /** Links that drop packets: a pull across one fails only when its connect times out. */
  final Set<String> dropped = new HashSet<>();
  long connectTimeoutMillis = 250;
  /** Pulls that fail at once in one direction only, as "from>to": a peer that answers nothing but pulls itself. */
  final Set<String> failingPulls = new HashSet<>();
  private final List<Hanging> hanging = new ArrayList<>();

  private record Hanging(N from, int generation, long pullId, long failsAtMillis) {}
  final Map<String, Long> counters = new TreeMap<>();
  /** Observations by "node name", e.g. "B wait.read.ready_millis". */
  final Map<String, List<Double>> observations = new TreeMap<>();
  long now = 1_000;
  long causalWaitMillis = 1_000;
  int maxParked = 20_000;
  Set<PlantedBug> bugs = Set.of();
  boolean causalOff;

  N add(String id, List<String> view) {
    return add(id, view, InMemoryStore.create());
  }

  N add(String id, List<String> view, Store store) {
    N n = new N(id, view, store);
    nodes.put(id, n);
    return n;
  }

  N node(String id) {
    return nodes.get(id);
  }

  private static String link(String a, String b) {
    return a.compareTo(b) < 0 ? a + "|" + b : b + "|" + a;
  }

  void cut(String a, String b) {
    cut.add(link(a, b));
  }

  /** From now on packets between a and b are dropped: pulls hang until their connect times out. */
  void drop(String a, String b) {
    dropped.add(link(a, b));
  }

  void heal() {
    cut.clear();
    dropped.clear();
  }

  /** Moves the clock and ticks every node. */
  void advance(long millis) {
    now += millis;
    for (Hanging h : new ArrayList<>(hanging)) {
      if (h.failsAtMillis > now) continue;
      hanging.remove(h);
      if (h.generation == h.from.generation && !h.from.cancelled.remove(h.pullId)) h.from.loop.step(new Event.PullFailed(h.pullId));
    }
    for (N n : new ArrayList<>(nodes.values())) n.loop.step(new Event.Tick());
  }

  /** Delivers queued messages (and their answers) until none is left; messages across a cut fail. */
  void settle() {
    for (int guard = 0; !outbox.isEmpty(); guard++) {
      if (guard > 100_000) throw new IllegalStateException("no quiescence: messages keep coming");
      deliver(outbox.poll());
    }
  }

  /** Settles, then advances the clock in steps until {@code millis} have passed, settling after each. */
  void run(long millis) {
    settle();
    for (long t = 0; t < millis; t += 50) {
      advance(50);
      settle();
    }
  }

  void deliver(Message m) {
    N from = nodes.get(m.from);
    Send s = m.send;
    if (s instanceof Send.Pull p) {
      N to = nodes.get(p.peer());
      if (dropped.contains(link(m.from, p.peer()))) {
        hanging.add(new Hanging(from, from.generation, p.pullId(), now + connectTimeoutMillis));
        return;
      }
      if (to == null || cut.contains(link(m.from, p.peer())) || failingPulls.contains(m.from + ">" + p.peer())) {
        from.loop.step(new Event.PullFailed(p.pullId()));
        return;
      }
      int gen = from.generation;
      long rid = to.register(r -> {
        if (gen != from.generation || from.cancelled.remove(p.pullId())) {
          if (r instanceof Reply.Pull a) a.answer().delta().close();
          return;
        }
        if (r instanceof Reply.Pull a) {
          List<Version> vs = new ArrayList<>();
          try (Store.Delta d = a.answer().delta()) {
            d.forEachRemaining(vs::add);
          }
          if (cut.contains(link(m.from, p.peer()))) {
            from.loop.step(new Event.PullFailed(p.pullId()));
            return;
          }
          from.loop.step(new Event.AnswerBegan(p.pullId(), a.answer().view(), a.answer().marks()));
          from.loop.step(new Event.AnswerVersions(p.pullId(), vs));
          from.loop.step(new Event.AnswerEnded(p.pullId(), a.answer().marks(), a.answer().peerApplied(), vs.size()));
        } else if (r instanceof Reply.PullRefusal ref) {
          from.loop.step(new Event.PullRefused(p.pullId(), ref.view()));
        } else {
          from.loop.step(new Event.PullFailed(p.pullId()));
        }
      });
      to.loop.step(new Event.PullArrived(rid, p.request()));
    } else if (s instanceof Send.Push p) {
      N to = nodes.get(p.peer());
      if (to == null || cut.contains(link(m.from, p.peer()))) {
        from.loop.step(new Event.PushAnswered(p.pushId(), false));
        return;
      }
      long rid = to.register(r -> from.loop.step(new Event.PushAnswered(p.pushId(), r instanceof Reply.ViewPushed v && v.accepted())));
      to.loop.step(new Event.ViewPushArrived(rid, p.from(), p.view()));
    } else if (s instanceof Send.ForwardViewChange f) {
      N to = nodes.get(f.peer());
      if (to == null || cut.contains(link(m.from, f.peer()))) {
        from.loop.step(new Event.ForwardAnswered(f.callId(), null));
        return;
      }
      long rid = to.register(r -> from.loop.step(new Event.ForwardAnswered(f.callId(), r instanceof Reply.ViewChange v ? v : null)));
      to.loop.step(new Event.ViewChangeRequested(rid, f.member(), f.add(), !f.add()));
    }
  }
}
