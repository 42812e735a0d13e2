package dev.causalkv.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.causalkv.core.VectorClock;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code CAUSAL=off}, the benchmark baseline of docs/design.md §8: the same core with every read
 * covered and no payload checked, so that the cost of causality can be measured as a ratio. It
 * breaks the promise on purpose; these tests pin down exactly how, beside the normal core.
 */
class CausalOffTest {

  static final List<String> VIEW = List.of("A", "B");

  @Test
  void aReadThatWouldWaitIsAnsweredAtOnceFromWhatTheNodeHolds() {
    for (boolean off : new boolean[] {false, true}) {
      Cores c = new Cores();
      c.causalOff = off;
      Cores.N a = c.add("A", VIEW);
      Cores.N b = c.add("B", VIEW);
      c.cut("A", "B");
      Reply.Client w = a.put("k", "v", VectorClock.EMPTY);
      Reply r = b.get("k", w.payload());
      if (!off) {
        assertNull(r, "causal: B lacks the write, the read waits");
      } else {
        Reply.Client got = assertInstanceOf(Reply.Client.class, r, "causal-off: answered at once");
        assertEquals(Reply.Outcome.NOT_FOUND, got.outcome(), "from what B holds: the causal promise is broken on purpose");
      }
    }
  }

  @Test
  void aPayloadClaimingWritesThisNodeNeverMadeIsNotRefused() {
    for (boolean off : new boolean[] {false, true}) {
      Cores c = new Cores();
      c.causalOff = off;
      Cores.N a = c.add("A", VIEW);
      VectorClock forged = VectorClock.EMPTY.with(a.core.origin(), 1_000);
      Reply.Client r = assertInstanceOf(Reply.Client.class, a.get("k", forged));
      assertEquals(off ? Reply.Outcome.NOT_FOUND : Reply.Outcome.INVALID_PAYLOAD, r.outcome(),
          off ? "causal-off: no plausibility check, the read goes through" : "causal: refused");
    }
  }
}
