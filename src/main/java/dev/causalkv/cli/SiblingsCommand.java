package dev.causalkv.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code kv siblings KEY}: every sibling of a key at --node, which one is visible and why. */
@Command(name = "siblings", description = "Show every sibling of KEY at --node: dots, clocks, timestamps, which one is visible and why.")
final class SiblingsCommand implements Callable<Integer> {

  @ParentCommand KvCommand kv;

  @Parameters(index = "0", paramLabel = "KEY") String key;

  @Override
  public Integer call() {
    NodeClient.Answer a = kv.client().send("GET", kv.node(), KeyCommands.keyPath("/admin/key/", key), Map.of(), Map.of());
    if (kv.json) {
      kv.printRaw(a);
      return a.answered() && a.status() == 200 ? KvCommand.OK : kv.report(a, false);
    }
    int rc = kv.report(a, false);
    if (rc != KvCommand.OK) return rc;
    JsonObject o = a.json();
    if (o.getAsJsonArray("siblings").isEmpty()) {
      kv.out().println(key + ": no versions at " + a.node() + " (never written, or deleted and collected)");
      return KvCommand.NOT_FOUND;
    }
    kv.out().println(key + " at " + a.node() + ": " + (o.get("exists").getAsBoolean() ? "exists" : "deleted")
        + ", " + o.getAsJsonArray("siblings").size() + " sibling(s)");
    Table t = new Table("", "DOT", "TIME", "TS", "VALUE", "VC", "WHY");
    for (JsonElement e : o.getAsJsonArray("siblings")) {
      JsonObject s = e.getAsJsonObject();
      String value = s.get("tombstone").getAsBoolean() ? "(tombstone)" : abbreviate(s.get("value").getAsString());
      t.row(s.get("visible").getAsBoolean() ? "*" : "", s.get("dot").getAsString(), s.get("time").getAsString(),
          s.get("ts").getAsLong(), value, s.get("vc").toString(), s.get("why").getAsString());
    }
    t.print(kv.out());
    kv.out().println("* visible. " + o.get("rule").getAsString());
    return KvCommand.OK;
  }

  private static String abbreviate(String v) {
    String oneLine = v.replace("\n", "\\n");
    return oneLine.length() <= 40 ? oneLine : oneLine.substring(0, 37) + "...";
  }
}
