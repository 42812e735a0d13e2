package dev.causalkv.cluster;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Prometheus text parsed by the Prometheus project's own Python client parser
 * ({@code prometheus_client.parser}, Debian's python3-prometheus-client), so that what the
 * tests read is what a Prometheus-compatible consumer reads. Without it the test is skipped
 * locally, and fails in CI (CI=true), whose .ci/run installs it.
 */
final class PromText {

  /** One sample: full name (with _total, _bucket, ...), labels, value (NaN and infinities as doubles). */
  record Sample(String name, Map<String, String> labels, double value) {}

  /** One metric family: name (without _total for counters), type, help, samples. */
  record Family(String name, String type, String help, List<Sample> samples) {}

  private final Map<String, Family> families;

  private PromText(Map<String, Family> families) {
    this.families = families;
  }

  static PromText parse(String text) throws Exception {
    Path script = Files.createTempFile("prom_parse", ".py");
    try (InputStream in = PromText.class.getResourceAsStream("prom_parse.py")) {
      Files.write(script, in.readAllBytes());
    }
    try {
      for (String python : List.of("/usr/bin/python3", "python3")) {
        Process p;
        try {
          p = new ProcessBuilder(python, script.toString()).start();
        } catch (java.io.IOException noSuchPython) {
          continue;
        }
        p.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) throw new AssertionError("parser hung");
        if (p.exitValue() == 3) continue; // this python lacks prometheus_client
        if (p.exitValue() != 0) throw new AssertionError("the Prometheus parser refused the exposition: " + err);
        return fromJson(out);
      }
    } finally {
      Files.deleteIfExists(script);
    }
    String why = "Python's prometheus_client is not installed (apt-get install python3-prometheus-client)";
    if ("true".equals(System.getenv("CI"))) throw new AssertionError(why + "; .ci/run installs it in CI");
    Assumptions.abort(why + ": skipping the Prometheus format test");
    return null;
  }

  private static PromText fromJson(String json) {
    Map<String, Family> out = new LinkedHashMap<>();
    for (JsonElement fe : JsonParser.parseString(json).getAsJsonObject().getAsJsonArray("families")) {
      JsonObject f = fe.getAsJsonObject();
      List<Sample> samples = new ArrayList<>();
      for (JsonElement se : f.getAsJsonArray("samples")) {
        JsonObject s = se.getAsJsonObject();
        Map<String, String> labels = new LinkedHashMap<>();
        s.getAsJsonObject("labels").entrySet().forEach(e -> labels.put(e.getKey(), e.getValue().getAsString()));
        JsonElement v = s.get("value");
        double value = v.getAsJsonPrimitive().isString() ? Double.parseDouble(v.getAsString().replace("Inf", "Infinity")) : v.getAsDouble();
        samples.add(new Sample(s.get("name").getAsString(), labels, value));
      }
      String name = f.get("name").getAsString();
      out.put(name, new Family(name, f.get("type").getAsString(), f.get("help").getAsString(), samples));
    }
    return new PromText(out);
  }

  Map<String, Family> families() {
    return families;
  }

  Family family(String name) {
    Family f = families.get(name);
    if (f == null) throw new AssertionError("no metric family " + name + " in " + families.keySet());
    return f;
  }

  /** The value of the sample named {@code sample} whose labels include {@code labels} (pairs); NaN if none. */
  double value(String sample, String... labels) {
    for (Family f : families.values()) {
      for (Sample s : f.samples()) {
        if (!s.name().equals(sample)) continue;
        boolean match = true;
        for (int i = 0; i + 1 < labels.length; i += 2) match &= labels[i + 1].equals(s.labels().get(labels[i]));
        if (match) return s.value();
      }
    }
    return Double.NaN;
  }
}
