package dev.causalkv.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** The key commands: {@code put}, {@code get}, {@code del}, {@code search}. */
final class KeyCommands {

  private KeyCommands() {}

  /** The request path of a key: every character but unreserved ones percent-encoded, so any key travels intact. */
  static String keyPath(String prefix, String key) {
    return prefix + URLEncoder.encode(key, StandardCharsets.UTF_8).replace("+", "%20");
  }

  @Command(name = "put", description = "Write VALUE to KEY (VALUE '-' or absent: read it from standard input).")
  static final class Put implements Callable<Integer> {
    @ParentCommand KvCommand kv;
    @Parameters(index = "0", paramLabel = "KEY") String key;
    @Parameters(index = "1", paramLabel = "VALUE", arity = "0..1") String value;
    InputStream stdin = System.in;

    @Override
    public Integer call() {
      String v = value;
      if (v == null || v.equals("-")) {
        try {
          v = new String(stdin.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read the value from standard input", e);
        }
      }
      NodeClient.Answer a = kv.sessionCall("PUT", keyPath("/keyValue-store/", key), Map.of("val", v), false);
      if (kv.json) kv.printRaw(a);
      int rc = kv.report(a, true);
      if (rc == KvCommand.OK && !kv.json) {
        boolean replaced = a.json() != null && a.json().has("replaced") && a.json().get("replaced").getAsBoolean();
        kv.out().println((replaced ? "updated " : "added ") + key);
      }
      return rc;
    }
  }

  @Command(name = "get", description = "Print the value of KEY.")
  static final class Get implements Callable<Integer> {
    @ParentCommand KvCommand kv;
    @Parameters(index = "0", paramLabel = "KEY") String key;

    @Override
    public Integer call() {
      NodeClient.Answer a = kv.sessionCall("GET", keyPath("/keyValue-store/", key), Map.of(), true);
      if (kv.json) {
        kv.printRaw(a);
        return a.answered() && a.status() < 300 ? KvCommand.OK : quiet(a);
      }
      int rc = kv.report(a, false);
      if (rc == KvCommand.OK) kv.out().println(a.string("value"));
      return rc;
    }

    private int quiet(NodeClient.Answer a) {
      if (!a.answered()) return kv.report(a, false);
      return a.status() == 404 ? KvCommand.NOT_FOUND : a.status() >= 500 ? KvCommand.FAILED : KvCommand.REFUSED;
    }
  }

  @Command(name = "del", aliases = "delete", description = "Delete KEY.")
  static final class Del implements Callable<Integer> {
    @ParentCommand KvCommand kv;
    @Parameters(index = "0", paramLabel = "KEY") String key;

    @Override
    public Integer call() {
      NodeClient.Answer a = kv.sessionCall("DELETE", keyPath("/keyValue-store/", key), Map.of(), false);
      if (kv.json) kv.printRaw(a);
      int rc = kv.report(a, true);
      if (rc == KvCommand.OK && !kv.json) kv.out().println("deleted " + key);
      return rc;
    }
  }

  @Command(name = "search", description = "Tell whether KEY exists (exit status 0 if it does, 1 if not).")
  static final class Search implements Callable<Integer> {
    @ParentCommand KvCommand kv;
    @Parameters(index = "0", paramLabel = "KEY") String key;

    @Override
    public Integer call() {
      NodeClient.Answer a = kv.sessionCall("GET", keyPath("/keyValue-store/search/", key), Map.of(), true);
      if (kv.json) kv.printRaw(a);
      int rc = kv.report(a, false);
      if (rc != KvCommand.OK) return rc;
      boolean exists = a.json() != null && a.json().has("isExists") && a.json().get("isExists").getAsBoolean();
      if (!kv.json) kv.out().println(key + (exists ? " exists" : " does not exist"));
      return exists ? KvCommand.OK : KvCommand.NOT_FOUND;
    }
  }
}
