package dev.causalkv.core;

import static dev.causalkv.core.ReplicaTest.open;
import static dev.causalkv.core.ReplicaTest.pull;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.causalkv.wire.Json;
import org.junit.jupiter.api.Test;

/**
 * A member that learns of a node's removal must not ignore the removed node's origins before it
 * holds what the removal drained. Found by the simulation (seeds 114, 5129, 5140, 5191, 5293 with
 * {@code -Dsim.membership=random}): a client writes at C; A drains C and removes it; B, cut from
 * C, learns the removal (from the push, or piggybacked on a pull) before it has pulled C's writes
 * from A, and then answers the client's read as if its own write never happened.
 */
class RemovalDrainTest {

  @Test
  void aMemberWaitsForTheDrainedWritesOfARemovedNode() {
    Replica a = open("A");
    Replica b = open("B");
    Replica c = open("C");
    Replica.Write w = c.write("x", "1", VectorClock.EMPTY, 1); // a client writes x=1 at C
    pull(a, c); // A drains C ...
    ViewState removed = a.changeView("C", false); // ... and removes it
    b.mergeView(removed); // B learns of it; its own drain of C failed (B–C cut)
    Replica.Read r = b.read("x", w.version().vc());
    assertFalse(r.covered(), "B lacks the drained write x=1; answering now hides the client's own write: " + r);
    pull(b, a);
    r = b.read("x", w.version().vc());
    assertTrue(r.covered());
    assertEquals("1", r.siblings().visible().value());
  }

  @Test
  void writesTheRemovedNodeMadeAfterTheDrainAreStillIgnorable() {
    Replica a = open("A");
    Replica b = open("B");
    Replica c = open("C");
    c.write("x", "1", VectorClock.EMPTY, 1);
    pull(a, c);
    ViewState removed = a.changeView("C", false);
    Replica.Write late = c.write("y", "2", VectorClock.EMPTY, 2); // C, not yet told, keeps writing
    pull(b, a);
    b.mergeView(removed);
    assertTrue(b.read("y", late.version().vc()).covered(), "writes after the drain left with C (DESIGN.md §6)");
    assertTrue(a.read("y", late.version().vc()).covered());
    assertTrue(b.read("x", late.version().vc()).covered());
  }

  @Test
  void aRemovalWithNothingDrainedIgnoresEverything() {
    Replica a = open("A");
    a.changeView("C", false); // C was down: nothing drained
    assertTrue(a.read("x", ReplicaTest.vc("C#1", 7)).covered());
  }

  @Test
  void theDrainedPositionTravelsWithTheView() {
    Replica a = open("A");
    Replica c = open("C");
    c.write("x", "1", VectorClock.EMPTY, 1);
    c.write("x", "2", VectorClock.EMPTY, 2);
    pull(a, c);
    ViewState removed = a.changeView("C", false);
    assertEquals(ReplicaTest.vc("C#1", 2), removed.entries().get("C").drained());
    ViewState back = Json.decodeView(Json.encode(removed));
    assertEquals(removed, back, "a view must survive the wire unchanged");
    assertEquals(VectorClock.EMPTY, back.entries().get("A").drained());
  }
}
