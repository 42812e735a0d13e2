package dev.causalkv.http;

import dev.causalkv.driver.NodeLoop;
import dev.causalkv.driver.Requests;
import dev.causalkv.protocol.Event;
import dev.causalkv.protocol.Reply;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/** {@code GET/PUT/DELETE /view}: the membership API of the assignment, carried out by the core's view changes. */
final class ViewApi {

  /** host:port, where host is an IPv4 address or a DNS name, and port 1..65535. */
  static final Pattern IP_PORT = Pattern.compile("^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?:([1-9][0-9]{0,4})$");

  private final NodeLoop loop;
  private final Requests requests;

  ViewApi(NodeLoop loop, Requests requests) {
    this.loop = loop;
    this.requests = requests;
  }

  void get(HttpCall call) {
    call.respond(200, Map.of("view", String.join(",", loop.core().members())));
  }

  void put(HttpCall call) {
    change(call, true);
  }

  void delete(HttpCall call) {
    change(call, false);
  }

  private void change(HttpCall call, boolean add) {
    String member = member(call);
    long id = requests.register(r -> answer(call, member, add, r));
    loop.step(new Event.ViewChangeRequested(id, member, add));
  }

  private static void answer(HttpCall call, String member, boolean add, Reply r) {
    if (r instanceof Reply.Unavailable u) {
      call.respond(503, HttpCall.error(u.reason()));
      return;
    }
    Reply.ViewChange v = (Reply.ViewChange) r;
    if (!v.applied()) {
      call.respond(404, HttpCall.error(member + (add ? " is already in view" : " is not in current view")));
      return;
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("result", "Success");
    m.put("msg", add ? "Successfully added " + member + " to view" : "Successfully removed " + member + " from view");
    if (!v.unreachable().isEmpty()) m.put("unreachable", String.join(",", v.unreachable()));
    if (v.warning() != null) m.put("warning", v.warning());
    call.respond(200, m);
  }

  static boolean isValidMember(String s) {
    if (s == null || !IP_PORT.matcher(s).matches()) return false;
    int port = Integer.parseInt(s.substring(s.lastIndexOf(':') + 1));
    return port <= 65535;
  }

  static String member(HttpCall call) {
    String m = call.param("ip_port");
    if (m == null || m.isBlank()) throw new HttpCall.BadRequest(400, HttpCall.error("ip_port is missing"));
    m = m.trim();
    if (!isValidMember(m)) throw new HttpCall.BadRequest(400, HttpCall.error("ip_port is not valid: expected host:port"));
    return m;
  }
}
