package dev.causalkv.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Named client sessions, each a file holding the last payload a node handed that session (one
 * line, opaque). Every command sends it and stores the answer's payload in its place; an answer's
 * payload always covers the one sent, so the history only grows. Two commands run at the same
 * time with the same session may each store their own answer: the later one wins.
 */
final class Sessions {

  static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  private final Path dir;

  Sessions(Path dir) {
    this.dir = dir;
  }

  Path dir() {
    return dir;
  }

  static void checkName(String name) {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("session name '" + name + "' must be letters, digits, '.', '_' or '-' (up to 64)");
    }
  }

  /** The session's payload; empty when it has none yet. */
  String load(String name) {
    checkName(name);
    Path f = dir.resolve(name);
    try {
      return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8).trim() : "";
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read session file " + f + ": " + e.getMessage(), e);
    }
  }

  /** Replaces the session's payload, atomically (a crash leaves the old or the new one, never half). */
  void store(String name, String payload) {
    checkName(name);
    try {
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, "." + name, ".tmp");
      Files.writeString(tmp, payload + "\n", StandardCharsets.UTF_8);
      try {
        Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write session file in " + dir + ": " + e.getMessage(), e);
    }
  }

  boolean exists(String name) {
    checkName(name);
    return Files.exists(dir.resolve(name));
  }

  boolean forget(String name) {
    checkName(name);
    try {
      return Files.deleteIfExists(dir.resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove session file: " + e.getMessage(), e);
    }
  }

  List<String> names() {
    if (!Files.isDirectory(dir)) return List.of();
    try (Stream<Path> s = Files.list(dir)) {
      List<String> out = new ArrayList<>();
      s.map(p -> p.getFileName().toString()).filter(n -> NAME.matcher(n).matches()).sorted().forEach(out::add);
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
    }
  }
}
