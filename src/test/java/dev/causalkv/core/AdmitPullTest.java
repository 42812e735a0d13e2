package dev.causalkv.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.causalkv.storage.InMemoryStore;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A pull from a node this replica does not list must still teach it the view changes the puller
 * knows. Found by the simulation (seeds 1997, 2131, 2852 at commit d2a28da never converged): A is
 * cut off while B adds D; A, not knowing D, then removes B, so A's only peer is D, and A refused
 * D's pulls without looking at D's view, which records D's addition. A and D stayed apart for good.
 * (That simulation's drain did not merge the leaving node's view, as PeerTransport.pullOnce does;
 * with a faithful drain the same happens when the drain is skipped because B is down, which
 * DESIGN.md §6 allows.)
 */
class AdmitPullTest {

  static Replica open(String id, List<String> view) {
    return Replica.open(InMemoryStore.create(), id, view, () -> "1", null);
  }

  @Test
  void aPullerAddedByAChangeThisNodeMissedIsAdmittedAndTeachesIt() {
    Replica a = open("A", List.of("A", "B"));
    Replica b = open("B", List.of("A", "B"));
    Replica d = open("D", List.of("A", "B", "D")); // started with VIEW = old members + itself
    ViewState added = b.changeView("D", true); // PUT /view D at B; the push to A is lost (A is cut off)
    d.mergeView(added);
    ViewState removed = a.changeView("B", false); // DELETE /view B at A, which does not know D
    d.mergeView(removed);
    assertEquals(List.of("A"), a.members());
    assertEquals(List.of("A", "D"), d.members());
    assertTrue(a.admitPull("D", d.view()), "D's view records its addition; refusing it would split A and D for good");
    assertEquals(List.of("A", "D"), a.members());
    assertEquals(List.of("D"), a.peers(), "A now pulls from D too");
  }

  @Test
  void aNodeCannotJoinByListingItselfInItsConfiguredView() {
    Replica a = open("A", List.of("A", "B"));
    ViewState intruder = ViewState.initial(List.of("A", "B", "X"));
    assertFalse(a.admitPull("X", intruder));
    assertEquals(List.of("A", "B"), a.members());
    assertFalse(a.view().entries().containsKey("X"));
  }

  @Test
  void membersAreAdmittedAndTheirWholeViewMerged() {
    Replica a = open("A", List.of("A", "B"));
    Replica b = open("B", List.of("A", "B", "C")); // B was configured with C too
    assertTrue(a.admitPull("B", b.view()));
    assertTrue(a.view().contains("C"), "a member's configured entries are merged as before");
    assertFalse(a.admitPull("A", a.view()), "a node never pulls from itself");
  }
}
