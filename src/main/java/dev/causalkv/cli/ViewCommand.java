package dev.causalkv.cli;

import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code kv view}, {@code kv view add IP_PORT}, {@code kv view remove IP_PORT}: the membership API. */
@Command(name = "view", description = {
    "Show the view of --node, one member a line; or change it:",
    "  view add IP_PORT      PUT /view: add a member (start it first, with VIEW listing the members and itself)",
    "  view remove IP_PORT   DELETE /view: drain, then remove a member"})
final class ViewCommand implements Callable<Integer> {

  @ParentCommand KvCommand kv;

  @Parameters(index = "0", arity = "0..1", paramLabel = "add|remove") String action;

  @Parameters(index = "1", arity = "0..1", paramLabel = "IP_PORT") String member;

  @Override
  public Integer call() {
    if (action == null || action.equals("show")) {
      NodeClient.Answer a = kv.client().send("GET", kv.node(), "/view", Map.of(), Map.of());
      if (kv.json) kv.printRaw(a);
      int rc = kv.report(a, false);
      if (rc == KvCommand.OK && !kv.json) {
        for (String m : a.string("view").split(",")) if (!m.isBlank()) kv.out().println(m);
      }
      return rc;
    }
    String method = switch (action) {
      case "add" -> "PUT";
      case "remove", "rm", "del" -> "DELETE";
      default -> null;
    };
    if (method == null || member == null) {
      kv.err().println("kv: usage: kv view [add|remove IP_PORT]");
      return KvCommand.USAGE;
    }
    NodeClient.Answer a = kv.client().send(method, kv.node(), "/view", NodeClient.form("ip_port", member), Map.of());
    if (kv.json) kv.printRaw(a);
    int rc = kv.report(a, true);
    if (rc == KvCommand.OK && !kv.json) {
      kv.out().println(a.msg());
      String unreachable = a.string("unreachable");
      if (unreachable != null) {
        kv.out().println("not acknowledged in time by: " + unreachable
            + " (they learn of the change through replication once reachable)");
      }
    }
    return rc;
  }
}
