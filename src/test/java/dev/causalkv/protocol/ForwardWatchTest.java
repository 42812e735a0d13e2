package dev.causalkv.protocol;

import static dev.causalkv.core.Clocks.vc;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.causalkv.core.VectorClock;
import org.junit.jupiter.api.Test;

/** When own-origin pulls stop being enough: a foreign origin stays behind the peer for a while. */
class ForwardWatchTest {

  @Test
  void aForeignOriginStillBehindAfterTheDelayAsksForACompletePull() {
    ForwardWatch w = new ForwardWatch(250);
    VectorClock marks = vc("B#1", 5);
    assertFalse(w.needsComplete(marks, vc("B#1", 5, "A#1", 3), vc("A#1", 1), 0));
    assertFalse(w.needsComplete(marks, vc("B#1", 6, "A#1", 3), vc("A#1", 2), 200));
    assertTrue(w.needsComplete(marks, vc("B#1", 6, "A#1", 3), vc("A#1", 2), 260));
    // the watch starts afresh after asking
    assertFalse(w.needsComplete(marks, vc("B#1", 6, "A#1", 3), vc("A#1", 2), 270));
  }

  @Test
  void catchingUpDirectlyOrTheSendersOwnOriginNeverAsk() {
    ForwardWatch w = new ForwardWatch(250);
    VectorClock marks = vc("B#1", 9);
    assertFalse(w.needsComplete(marks, vc("B#1", 9, "A#1", 3), vc("A#1", 1), 0));
    assertFalse(w.needsComplete(marks, vc("B#1", 9, "A#1", 3), vc("A#1", 3), 100)); // got it from A itself
    assertFalse(w.needsComplete(marks, vc("B#1", 9, "A#1", 3), vc("A#1", 3), 1000));
    assertFalse(w.needsComplete(marks, vc("B#1", 12), vc("B#1", 1), 5000), "the peer's own origin comes with own pulls");
  }
}
