package dev.causalkv.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar carries RocksDB's linux x86-64 and aarch64 glibc libraries (an image built from it
 * runs on amd64 and arm64 hosts), and a platform it has no library for is refused in one line.
 */
class NativeLibraryIT {

  static final String JAR = System.getProperty("causalkv.jar", "target/causalkv.jar");

  @Test
  void jarCarriesTheX8664AndAarch64GlibcLibrariesOnly() throws Exception {
    List<String> libs = new ArrayList<>();
    try (ZipFile z = new ZipFile(JAR)) {
      z.stream().map(e -> e.getName()).filter(n -> n.startsWith("librocksdbjni")).forEach(libs::add);
    }
    libs.sort(null);
    assertEquals(List.of("librocksdbjni-linux-aarch64.so", "librocksdbjni-linux64.so"), libs);
  }

  /**
   * {@code -Dos.arch=...} makes RocksDB's loader look for another platform's library, which the jar
   * does not carry: the node must say so in one line and exit non-zero, with no stack trace.
   */
  @Test
  void platformWithoutALibraryIsRefusedInOneLine(@TempDir Path tmp) throws Exception {
    for (String arch : List.of("sparc", "ppc64le", "riscv64")) {
      String id = NodeProcess.freeId();
      ProcessBuilder pb = new ProcessBuilder(List.of(
          System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
          "-Dos.arch=" + arch, "-jar", JAR));
      pb.environment().put("IP_PORT", id);
      pb.environment().put("VIEW", id);
      pb.environment().put("PORT", id.substring(id.indexOf(':') + 1));
      pb.environment().put("BIND", "127.0.0.1");
      pb.environment().put("DATA_DIR", tmp.resolve(arch).toString());
      pb.redirectErrorStream(true);
      Path out = tmp.resolve(arch + ".log");
      pb.redirectOutput(out.toFile());
      Process p = pb.start();
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), "exits promptly on " + arch);
      String log = Files.readString(out, StandardCharsets.UTF_8).trim();
      assertEquals(1, p.exitValue(), arch + ": " + log);
      assertEquals(1, log.lines().count(), "one line on " + arch + ": " + log);
      assertTrue(log.contains("no RocksDB native library for") && log.contains(arch), log);
      assertTrue(log.contains("DATA_DIR=:memory:"), "says what still works: " + log);
      assertFalse(log.contains("Exception") || log.contains("\tat "), "no stack trace: " + log);
    }
  }

  /** The same platform override with the memory engine starts: only the durable engine needs the library. */
  @Test
  void memoryEngineNeedsNoNativeLibrary(@TempDir Path tmp) throws Exception {
    String id = NodeProcess.freeId();
    try (NodeProcess n = new NodeProcess(id, List.of(id), tmp.resolve("d"),
        java.util.Map.of("DATA_DIR", ":memory:"), List.of("-Dos.arch=sparc")).start()) {
      assertEquals(200, n.put("k", "v", "").status());
    }
  }
}
