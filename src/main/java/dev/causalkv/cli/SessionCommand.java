package dev.causalkv.cli;

import com.google.gson.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code kv session [show|list|forget] [NAME]}: the session files. */
@Command(name = "session", description = {
    "Show or manage sessions (their payload files):",
    "  session [show] [NAME]   print the session's payload (default: --session)",
    "  session list            list the sessions",
    "  session forget [NAME]   delete the session: the next call starts with no history"})
final class SessionCommand implements Callable<Integer> {

  @ParentCommand KvCommand kv;

  @Parameters(index = "0", arity = "0..1", paramLabel = "show|list|forget") String action;

  @Parameters(index = "1", arity = "0..1", paramLabel = "NAME") String name;

  @Override
  public Integer call() {
    Sessions s = kv.sessions();
    String act = action == null ? "show" : action;
    String who = name != null ? name : kv.sessionName();
    switch (act) {
      case "list" -> {
        for (String n : s.names()) kv.out().println(n);
        return KvCommand.OK;
      }
      case "show" -> {
        if (!s.exists(who)) {
          kv.err().println("kv: no session '" + who + "' in " + s.dir());
          return KvCommand.NOT_FOUND;
        }
        String p = s.load(who);
        if (kv.json) {
          JsonObject o = new JsonObject();
          o.addProperty("session", who);
          o.addProperty("payload", p);
          kv.out().println(o);
        } else {
          kv.out().println(p);
        }
        return KvCommand.OK;
      }
      case "forget" -> {
        boolean had = s.forget(who);
        kv.out().println(had ? "forgot session " + who : "no session " + who);
        return had ? KvCommand.OK : KvCommand.NOT_FOUND;
      }
      default -> {
        if (action != null && name == null && Sessions.NAME.matcher(action).matches() && s.exists(action)) {
          kv.out().println(s.load(action)); // `kv session alice` shows alice
          return KvCommand.OK;
        }
        kv.err().println("kv: usage: kv session [show|list|forget] [NAME]");
        return KvCommand.USAGE;
      }
    }
  }
}
