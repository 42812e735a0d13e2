package dev.causalkv.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A data directory the node cannot use stops it with one clear line and exit code 1; nothing is wiped. */
class DataDirIT {

  @TempDir Path tmp;

  static StartupConfigIT.Exit run(Path dataDir, String id) throws Exception {
    String jar = System.getProperty("causalkv.jar", "target/causalkv.jar");
    ProcessBuilder pb = new ProcessBuilder(List.of(
        System.getProperty("java.home") + File.separator + "bin" + File.separator + "java", "-jar", jar));
    pb.environment().putAll(Map.of("IP_PORT", id, "VIEW", id, "PORT", id.substring(id.indexOf(':') + 1),
        "BIND", "127.0.0.1", "DATA_DIR", dataDir.toString()));
    pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    Process p = pb.start();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "exits promptly");
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    return new StartupConfigIT.Exit(p.exitValue(), err);
  }

  static void assertOneLineExit1(StartupConfigIT.Exit e, String mentions) {
    assertEquals(1, e.code(), e.stderr());
    List<String> ours = e.stderr().lines().filter(l -> l.startsWith("causalkv:")).toList();
    assertEquals(1, ours.size(), e.stderr());
    assertTrue(ours.get(0).contains(mentions), e.stderr());
    assertFalse(e.stderr().contains("Exception"), e.stderr());
    assertFalse(e.stderr().contains("\tat "), "no stack trace: " + e.stderr());
  }

  @Test
  void corruptDataDirectoryStopsTheNode() throws Exception {
    String id = NodeProcess.freeId();
    Path dir = tmp.resolve("node");
    NodeProcess n = new NodeProcess(id, List.of(id), dir, Map.of(), List.of()).start();
    assertEquals(200, n.put("k", "v", "").status());
    n.kill9();
    String manifest = Files.readString(dir.resolve("CURRENT")).trim();
    byte[] good = Files.readAllBytes(dir.resolve(manifest));
    byte[] bad = good.clone();
    for (int i = 20; i < bad.length; i += 7) bad[i] ^= 0x5A;
    Files.write(dir.resolve(manifest), bad);
    assertOneLineExit1(run(dir, id), "data directory " + dir);
    assertTrue(Files.exists(dir.resolve(manifest)), "left for an operator, not wiped");
    // Repaired, the same directory serves the data again.
    Files.write(dir.resolve(manifest), good);
    NodeProcess again = new NodeProcess(id, List.of(id), dir, Map.of(), List.of()).start();
    try {
      assertEquals("v", again.get("k", "").json().get("value").getAsString());
    } finally {
      again.kill9();
    }
  }

  @Test
  void directoryInUseByAnotherNodeStopsTheSecond() throws Exception {
    String id = NodeProcess.freeId();
    Path dir = tmp.resolve("node");
    NodeProcess n = new NodeProcess(id, List.of(id), dir, Map.of(), List.of()).start();
    try {
      assertOneLineExit1(run(dir, NodeProcess.freeId()), "in use by another process");
    } finally {
      n.kill9();
    }
  }

  @Test
  void foreignNonEmptyDirectoryIsRefused() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("node"));
    Files.writeString(dir.resolve("notes.txt"), "not a database");
    assertOneLineExit1(run(dir, NodeProcess.freeId()), "no CURRENT file");
    assertEquals("not a database", Files.readString(dir.resolve("notes.txt")));
  }
}
