package dev.causalkv.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.causalkv.core.VectorClock;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The client-op rules of docs/design.md §4, stepped by hand through the production core. */
class ClientOpsTest {

  static final List<String> VIEW = List.of("A", "B");

  static Reply.Client client(Reply r) {
    return assertInstanceOf(Reply.Client.class, r);
  }

  @Test
  void writesReplaceWhatTheNodeHoldsAndSayWhetherTheKeyExisted() {
    Cores c = new Cores();
    Cores.N a = c.add("A", VIEW);
    Reply.Client w1 = a.put("k", "1", VectorClock.EMPTY);
    assertEquals(Reply.Outcome.ADDED, w1.outcome());
    Reply.Client w2 = a.put("k", "2", VectorClock.EMPTY);
    assertEquals(Reply.Outcome.UPDATED, w2.outcome(), "replaced: the key existed");
    assertTrue(w2.payload().covers(w1.visible().dot()), "the new write's history includes what the node held");
    assertEquals(1, a.siblings("k").versions().size(), "no sibling: the write replaced everything held");
    Reply.Client del = client(a.delete("k", w2.payload()));
    assertEquals(Reply.Outcome.DELETED, del.outcome());
    Reply.Client again = client(a.delete("k", del.payload()));
    assertEquals(Reply.Outcome.NOT_FOUND, again.outcome(), "covered and absent: 404, nothing written");
    assertEquals(Reply.Outcome.ADDED, a.put("k", "3", del.payload()).outcome(), "after a delete the key is new again");
  }

  @Test
  void aReadWaitsUntilItsPayloadIsCoveredThenAnswers() {
    Cores c = new Cores();
    Cores.N a = c.add("A", VIEW);
    Cores.N b = c.add("B", VIEW);
    c.cut("A", "B");
    Reply.Client w = a.put("k", "v", VectorClock.EMPTY);
    c.settle();
    assertNull(b.get("k", w.payload()), "B lacks the write: the read is parked, not answered");
    Reply[] later = new Reply[1];
    long rid = b.register(r -> later[0] = r);
    b.loop.clientOp(new Event.ClientOp(rid, Event.Op.GET, "k", null, w.payload(), c.now));
    c.heal();
    c.run(500);
    Reply.Client got = client(later[0]);
    assertEquals(Reply.Outcome.VALUE, got.outcome());
    assertEquals("v", got.visible().value());
    assertTrue(got.payload().dominatesOrEquals(w.payload()), "never smaller than the client's payload");
  }

  @Test
  void aReadStillUncoveredAfterTheWaitIsOutOfDateWithAPayloadNoSmallerThanTheClients() {
    Cores c = new Cores();
    Cores.N a = c.add("A", VIEW);
    Cores.N b = c.add("B", VIEW);
    c.cut("A", "B");
    Reply.Client w = a.put("k", "v", VectorClock.EMPTY);
    Reply[] out = new Reply[1];
    long rid = b.register(r -> out[0] = r);
    b.loop.clientOp(new Event.ClientOp(rid, Event.Op.GET, "k", null, w.payload(), c.now));
    c.run(1_200);
    Reply.Client r = client(out[0]);
    assertEquals(Reply.Outcome.OUT_OF_DATE, r.outcome());
    assertTrue(r.payload().dominatesOrEquals(w.payload()));
    assertTrue(!r.payload().dominatesOrEquals(b.applied()) || b.applied().isEmpty() || r.payload().equals(w.payload()),
        "the node's applied is not handed out");
  }

  @Test
  void aDeleteStillUncoveredAfterTheWaitWritesItsTombstoneAnyway() {
    Cores c = new Cores();
    Cores.N a = c.add("A", VIEW);
    Cores.N b = c.add("B", VIEW);
    c.cut("A", "B");
    Reply.Client w = a.put("k", "v", VectorClock.EMPTY);
    Reply[] out = new Reply[1];
    long rid = b.register(r -> out[0] = r);
    b.loop.clientOp(new Event.ClientOp(rid, Event.Op.DELETE, "k", null, w.payload(), c.now));
    c.run(1_200);
    Reply.Client r = client(out[0]);
    assertEquals(Reply.Outcome.DELETED, r.outcome());
    assertTrue(r.visible().isTombstone());
    assertTrue(r.payload().dominatesOrEquals(w.payload()), "the tombstone supersedes what the client saw");
    c.heal();
    c.run(500);
    assertEquals(Reply.Outcome.NOT_FOUND, client(a.get("k", r.payload())).outcome(), "and wins at A once it arrives");
  }

  @Test
  void aPayloadClaimingWritesThisNodeNeverMadeIsRefusedAndNothingIsWritten() {
    Cores c = new Cores();
    Cores.N a = c.add("A", VIEW);
    a.put("k", "v", VectorClock.EMPTY);
    VectorClock forged = VectorClock.EMPTY.with(a.core.origin(), 99);
    Reply.Client r = client(a.put("k", "x", forged));
    assertEquals(Reply.Outcome.INVALID_PAYLOAD, r.outcome());
    assertEquals(1, a.core.meta().ownSeq(), "no seq consumed");
  }

  @Test
  void overloadShedsWithAClearRefusalAndTheNodeRecoversByItself() {
    Cores c = new Cores();
    c.maxParked = 2;
    Cores.N a = c.add("A", VIEW);
    Cores.N b = c.add("B", VIEW);
    c.cut("A", "B");
    Reply.Client w = a.put("k", "v", VectorClock.EMPTY);
    Reply[] out = new Reply[3];
    for (int i = 0; i < 3; i++) {
      int j = i;
      long rid = b.register(r -> out[j] = r);
      b.loop.clientOp(new Event.ClientOp(rid, Event.Op.GET, "k", null, w.payload(), c.now));
    }
    assertNull(out[0]);
    assertNull(out[1]);
    Reply.Unavailable shed = assertInstanceOf(Reply.Unavailable.class, out[2], "past the limit: shed at once");
    assertTrue(shed.reason().contains("overloaded"), shed.reason());
    c.heal();
    c.run(300);
    assertEquals(Reply.Outcome.VALUE, client(out[0]).outcome(), "the parked reads are still woken");
    assertEquals(Reply.Outcome.VALUE, client(out[1]).outcome());
    assertNotNull(b.get("k", w.payload()), "and new reads are served");
  }
}
