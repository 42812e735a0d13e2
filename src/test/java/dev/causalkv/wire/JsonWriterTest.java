package dev.causalkv.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The answer serialiser writes the same JSON as Gson's reflective path, escaping included. */
class JsonWriterTest {

  @Test
  void matchesGson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("result", "Error");
    m.put("msg", "quote \" backslash \\ newline \n tab \t unicode é ✓ <html> & '");
    m.put("replaced", true);
    m.put("value", null);
    m.put("n", 42L);
    Map<String, Long> vc = new LinkedHashMap<>();
    vc.put("10.0.0.2:8080#abc", 7L);
    Map<String, Object> payload = new LinkedHashMap<>();
    payload.put("vc", vc);
    payload.put("sig", "00ff");
    m.put("payload", payload);
    List<Object> list = new ArrayList<>(List.of(1, "two", false));
    list.add(null);
    m.put("list", list);
    m.put("tree", JsonParser.parseString("{\"a\":[1,2,{\"b\":null}]}"));
    String ours = Json.toJson(m);
    assertEquals(Json.GSON.toJson(m), ours);
    assertEquals(JsonParser.parseString(Json.GSON.toJson(m)), JsonParser.parseString(ours));
  }
}
