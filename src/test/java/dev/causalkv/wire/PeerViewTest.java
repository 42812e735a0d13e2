package dev.causalkv.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.gson.JsonParser;
import dev.causalkv.core.VectorClock;
import dev.causalkv.core.ViewState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Views from the network: every honest view reads back as sent; anything that could overflow or misname is refused. */
class PeerViewTest {

  @Test
  void honestViewsRoundTrip() {
    ViewState v = ViewState.initial(List.of("10.0.0.2:8080", "node-b.svc:8080"))
        .with("10.0.0.3:8080", true, "10.0.0.2:8080")
        .with("10.0.0.4:8080", false, "10.0.0.2:8080", VectorClock.EMPTY.with("10.0.0.4:8080#x1", 7));
    assertEquals(v, Json.peerView(Json.encode(v)));
  }

  @Test
  void malformedEntriesAreRefused() {
    for (String bad : List.of(
        "{\"b:1\":[false," + Long.MAX_VALUE + ",\"z\"]}",
        "{\"b:1\":[false," + (ViewState.MAX_COUNTER + 1) + ",\"a:1\"]}",
        "{\"b:1\":[false,1.5,\"a:1\"]}",
        "{\"b:1\":[\"yes\",1,\"a:1\"]}",
        "{\"b:1\":[true,1,\"\"]}",
        "{\"b:1\":[false,0,\"\"]}",
        "{\"b\":[true,1,\"a:1\"]}",
        "{\"b:0\":[true,1,\"a:1\"]}",
        "{\"b:1\":[false,1,\"a:1\",{\"c:1#x\":1}]}",
        "{\"b:1\":[false,1,\"a:1\",{\"b:1#x\":" + (VectorClock.MAX_COUNTER + 1) + "}]}",
        "{\"b:1\":[false,1,\"a:1\",{}, 5]}",
        "{\"b:1\":7}", "[]")) {
      assertThrows(Json.DecodeException.class, () -> Json.peerView(JsonParser.parseString(bad)), bad);
    }
  }

  @Test
  void countersFarAheadOfTheReceiversAreImplausible() {
    ViewState v = ViewState.of(Map.of("b:1", new ViewState.Entry(false, 1000, "a:1")));
    assertNull(ViewState.implausible(v, 0));
    assertNotNull(ViewState.implausible(ViewState.of(Map.of("b:1", new ViewState.Entry(false, ViewState.MAX_COUNTER_AHEAD + 1, "a:1"))), 0));
    assertNull(ViewState.implausible(ViewState.of(Map.of("b:1", new ViewState.Entry(false, ViewState.MAX_COUNTER_AHEAD + 1, "a:1"))), 5));
    assertNotNull(ViewState.implausible(ViewState.of(Map.of("b:1", new ViewState.Entry(false, ViewState.MAX_COUNTER + 1, "a:1"))),
        ViewState.MAX_COUNTER), "never past the absolute bound");
  }

  @Test
  void theNextStampCannotOverflow() {
    // an entry no decoder lets in any more, as the push made one: the next change must not wrap around
    ViewState v = ViewState.of(Map.of("b:1", new ViewState.Entry(false, Long.MAX_VALUE, "a:1")));
    assertThrows(ArithmeticException.class, () -> v.with("c:1", true, "a:1"));
  }
}
