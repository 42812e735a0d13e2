package dev.causalkv.cli;

import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code kv merge A B [--into C]}: one session that has seen everything both sessions have seen.
 * Payloads are sealed, so the client cannot merge them; a node does ({@code POST /payload/merge}).
 */
@Command(name = "merge", description = "Merge the payloads of sessions A and B (asks --node) into --into (default: A).")
final class MergeCommand implements Callable<Integer> {

  @ParentCommand KvCommand kv;

  @Parameters(index = "0", paramLabel = "A") String a;

  @Parameters(index = "1", paramLabel = "B") String b;

  @Option(names = "--into", paramLabel = "SESSION", description = "The session to store the union in (default: A).")
  String into;

  @Override
  public Integer call() {
    Sessions s = kv.sessions();
    for (String name : new String[] {a, b}) {
      if (!s.exists(name)) {
        kv.err().println("kv: no session '" + name + "' in " + s.dir());
        return KvCommand.USAGE;
      }
    }
    String target = into != null ? into : a;
    Sessions.checkName(target);
    NodeClient.Answer r = kv.client().send("POST", kv.node(), "/payload/merge",
        NodeClient.form("a", s.load(a), "b", s.load(b)), Map.of());
    if (kv.json) kv.printRaw(r);
    int rc = kv.report(r, false);
    if (rc != KvCommand.OK) return rc;
    String merged = r.payload();
    s.store(target, merged == null ? "" : merged);
    if (!kv.json) kv.out().println("session " + target + " now carries what " + a + " and " + b + " have seen");
    return rc;
  }
}
