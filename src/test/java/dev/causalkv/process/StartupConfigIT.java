package dev.causalkv.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Start-up with bad configuration prints one clear line and exits with code 2 (docs/design.md §8). */
class StartupConfigIT {

  record Exit(int code, String stderr) {}

  static Exit run(Map<String, String> env) throws Exception {
    String jar = System.getProperty("causalkv.jar", "target/causalkv.jar");
    ProcessBuilder pb = new ProcessBuilder(List.of(
        System.getProperty("java.home") + File.separator + "bin" + File.separator + "java", "-jar", jar));
    pb.environment().remove("VIEW");
    pb.environment().remove("IP_PORT");
    pb.environment().putAll(env);
    pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    Process p = pb.start();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "exits promptly");
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    return new Exit(p.exitValue(), err);
  }

  static void assertOneLineExit2(Exit e, String mentions) {
    assertEquals(2, e.code(), e.stderr());
    assertEquals(1, e.stderr().lines().count(), "one line: " + e.stderr());
    assertTrue(e.stderr().contains(mentions), e.stderr());
    assertFalse(e.stderr().contains("Exception"), e.stderr());
  }

  @Test
  void missingIpPort() throws Exception {
    assertOneLineExit2(run(Map.of("VIEW", "10.0.0.2:8080")), "IP_PORT");
  }

  @Test
  void missingView() throws Exception {
    assertOneLineExit2(run(Map.of("IP_PORT", "10.0.0.2:8080")), "VIEW");
  }

  @Test
  void malformedView() throws Exception {
    assertOneLineExit2(run(Map.of("IP_PORT", "10.0.0.2:8080", "VIEW", "10.0.0.2:8080,not an address")), "VIEW");
  }

  @Test
  void malformedIpPortAndNumbers() throws Exception {
    assertOneLineExit2(run(Map.of("IP_PORT", "10.0.0.2", "VIEW", "10.0.0.2:8080")), "IP_PORT");
    assertOneLineExit2(run(Map.of("IP_PORT", "10.0.0.2:8080", "VIEW", "10.0.0.2:8080", "PORT", "http")), "PORT");
    assertOneLineExit2(run(Map.of("IP_PORT", "10.0.0.2:8080", "VIEW", "10.0.0.2:8080", "SYNC", "sometimes")), "SYNC");
  }
}
