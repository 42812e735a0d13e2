package dev.causalkv.http;

import dev.causalkv.core.Replica;
import dev.causalkv.membership.ViewCoordinator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/** {@code GET/PUT/DELETE /view}: the membership API of the assignment. */
final class ViewApi {

  /** host:port, where host is an IPv4 address or a DNS name, and port 1..65535. */
  static final Pattern IP_PORT = Pattern.compile("^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?:([1-9][0-9]{0,4})$");

  private final Replica replica;
  private final ViewCoordinator coordinator;

  ViewApi(Replica replica, ViewCoordinator coordinator) {
    this.replica = replica;
    this.coordinator = coordinator;
  }

  void get(HttpCall call) {
    call.respond(200, Map.of("view", String.join(",", replica.members())));
  }

  void put(HttpCall call) {
    String member = member(call);
    ViewCoordinator.Outcome o = coordinator.add(member);
    if (!o.applied()) {
      call.respond(404, HttpCall.error(member + " is already in view"));
      return;
    }
    call.respond(200, success("Successfully added " + member + " to view", o));
  }

  void delete(HttpCall call) {
    String member = member(call);
    ViewCoordinator.Outcome o = coordinator.remove(member);
    if (!o.applied()) {
      call.respond(404, HttpCall.error(member + " is not in current view"));
      return;
    }
    call.respond(200, success("Successfully removed " + member + " from view", o));
  }

  private static Map<String, Object> success(String msg, ViewCoordinator.Outcome o) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("result", "Success");
    m.put("msg", msg);
    if (!o.unreachable().isEmpty()) m.put("unreachable", String.join(",", o.unreachable()));
    return m;
  }

  static boolean isValidMember(String s) {
    if (s == null || !IP_PORT.matcher(s).matches()) return false;
    int port = Integer.parseInt(s.substring(s.lastIndexOf(':') + 1));
    return port <= 65535;
  }

  private static String member(HttpCall call) {
    String m = call.param("ip_port");
    if (m == null || m.isBlank()) throw new HttpCall.BadRequest(400, HttpCall.error("ip_port is missing"));
    m = m.trim();
    if (!isValidMember(m)) throw new HttpCall.BadRequest(400, HttpCall.error("ip_port is not valid: expected host:port"));
    return m;
  }
}
