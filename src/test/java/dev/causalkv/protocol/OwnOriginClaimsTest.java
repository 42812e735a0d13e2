package dev.causalkv.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.causalkv.core.Batch;
import dev.causalkv.core.Dot;
import dev.causalkv.core.Siblings;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.Version;
import dev.causalkv.core.ViewState;
import dev.causalkv.driver.NodeLoop;
import dev.causalkv.storage.InMemoryStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * A version whose history claims more of this node's own origin than it ever issued (issue 10's
 * forged {@code {B#1: 1000}}, written at A and pulled by B): B's own clients' writes to the key
 * must still be taken, acknowledged and kept, never refused nor dropped as dominated.
 */
class OwnOriginClaimsTest {

  static final String A = "10.0.0.1:8080";
  static final String B = "10.0.0.2:8080";
  static final String A_ORIGIN = A + "#a";

  /** Node B, driven by its production loop over the in-memory store; replies and sends collected. */
  static final class NodeB {
    final InMemoryStore store = InMemoryStore.create();
    final List<Reply> replies = new ArrayList<>();
    final List<Send> sends = new ArrayList<>();
    final Map<String, Long> counted = new HashMap<>();
    final NodeCore core;
    final NodeLoop loop;
    long ids = 1000;

    NodeB() {
      this(InMemoryStore.create());
    }

    NodeB(InMemoryStore s) {
      core = NodeCore.open(s, NodeCore.Config.defaults(B, List.of(A, B)), () -> "b", (n, d) -> counted.merge(n, d, Long::sum));
      loop = new NodeLoop(core, s, new NodeLoop.Effects() {
        @Override
        public void deliver(Reply reply) {
          replies.add(reply);
        }

        @Override
        public void send(Send message) {
          sends.add(message);
        }

        @Override
        public void cancel(long pullId) {}

        @Override
        public void wakeAt(long atMillis) {}
      }, () -> 0);
      loop.step(new Event.Tick());
    }

    /** Answers B's pull from A with {@code versions}, whole. */
    void pulledFromA(List<Version> versions) {
      Send.Pull p = null;
      for (Send s : sends) if (s instanceof Send.Pull sp && sp.peer().equals(A)) p = sp;
      assertNotNull(p, "B pulls from A");
      sends.clear();
      VectorClock marks = VectorClock.EMPTY.with(A_ORIGIN, 1);
      loop.step(new Event.AnswerBegan(p.pullId(), ViewState.EMPTY, marks));
      loop.step(new Event.AnswerVersions(p.pullId(), versions));
      loop.step(new Event.AnswerEnded(p.pullId(), marks, marks, versions.size()));
    }

    Reply.Client op(Event.Op op, String key, String value) {
      return op(op, key, value, VectorClock.EMPTY);
    }

    Reply.Client op(Event.Op op, String key, String value, VectorClock payload) {
      long id = ++ids;
      loop.clientOp(new Event.ClientOp(id, op, key, value, payload, 1_000_000 + id));
      for (Reply r : replies) if (r.id() == id) return (Reply.Client) r;
      throw new AssertionError("no reply to " + op + " " + key);
    }
  }

  static VectorClock vc(Object... kv) {
    TreeMap<String, Long> m = new TreeMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], ((Number) kv[i + 1]).longValue());
    return VectorClock.of(m);
  }

  @Test
  void aForgedClaimOnThisOriginDoesNotShadowItsNextWrites() {
    NodeB b = new NodeB();
    assertEquals(Reply.Outcome.ADDED, b.op(Event.Op.PUT, "other", "x").outcome());
    String own = b.core.origin();
    // written at A under a payload claiming B's 1000th write: it dominates B's writes up to seq 1000
    Version forged = new Version("k", "from-a", new Dot(A_ORIGIN, 1), vc(A_ORIGIN, 1, own, 1000), 5);
    b.pulledFromA(List.of(forged));
    assertEquals("from-a", b.op(Event.Op.GET, "k", null).visible().value(), "merged like any version");

    Reply.Client w = b.op(Event.Op.PUT, "k", "from-b");
    assertEquals(Reply.Outcome.UPDATED, w.outcome(), "B's client's write is taken: " + w);
    assertEquals(1001, w.visible().dot().seq(), "B's seq skipped past the claim");
    assertTrue(w.visible().vc().dominatesOrEquals(forged.vc()), "and the write supersedes the forged version");
    assertEquals("from-b", b.op(Event.Op.GET, "k", null).visible().value(), "the acknowledged write is kept");
    assertTrue(b.core.meta().applied().get(own) >= 1001);
    assertEquals(1, b.op(Event.Op.GET, "k", null).siblings().versions().size(), "one sibling: B's write replaced A's");
    // the payload a client read of the forged version handed out is no longer refused by B as claiming writes it never made
    assertEquals(Reply.Outcome.VALUE, b.op(Event.Op.GET, "k", null, forged.vc()).outcome());
  }

  @Test
  void versionsClaimingThisOriginsOwnDotsOrAHugeSkipAreRefused() {
    NodeB b = new NodeB();
    String own = b.core.origin();
    Version authoredAsB = new Version("x", "never-written-by-b", new Dot(own, 7), vc(own, 7), 5);
    Version huge = new Version("y", "huge", new Dot(A_ORIGIN, 1), vc(A_ORIGIN, 1, own, Replica.MAX_OWN_SKIP + 5), 5);
    b.pulledFromA(List.of(authoredAsB, huge));
    assertEquals(2L, b.counted.get("pull.versions_refused"));
    assertEquals(Reply.Outcome.NOT_FOUND, b.op(Event.Op.GET, "x", null).outcome());
    assertEquals(Reply.Outcome.NOT_FOUND, b.op(Event.Op.GET, "y", null).outcome());
    assertEquals(1, b.op(Event.Op.PUT, "x", "mine").visible().dot().seq(), "nothing moved B's seq");
  }

  @Test
  void theWritePathRefusesAVersionThatWouldNotSurviveItsOwnMerge() {
    // a store already holding a version that claims B's next seq (as no honest path can make it):
    // the write must be refused with nothing written, never acknowledged and then dropped as dominated
    InMemoryStore store = InMemoryStore.create();
    NodeB first = new NodeB(store);
    String own = first.core.origin();
    Version poisoned = new Version("k", "poison", new Dot(A_ORIGIN, 1), vc(A_ORIGIN, 1, own, 50), 5);
    store.commit(new Batch(List.of(new Batch.KeyChange("k", Siblings.EMPTY, Siblings.EMPTY.merge(poisoned))), store.loadMeta()));
    NodeB b = new NodeB(store);
    Reply.Client w = b.op(Event.Op.PUT, "k", "v");
    assertEquals(Reply.Outcome.INVALID_PAYLOAD, w.outcome(), w.toString());
    assertEquals("poison", b.op(Event.Op.GET, "k", null).visible().value(), "nothing written");
    assertEquals(0, b.core.meta().ownSeq());
  }
}
