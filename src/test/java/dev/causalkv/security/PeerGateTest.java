package dev.causalkv.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Who a caller is, from where its call comes: addresses, DNS names, call-backs, admin ranges, nonces. */
class PeerGateTest {

  static InetAddress ip(String s) {
    try {
      return InetAddress.getByName(s);
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  final List<String> asked = new ArrayList<>();
  final Map<String, String> dns = Map.of("node-a.svc", "10.1.0.5");
  final AtomicLong now = new AtomicLong();
  final HostResolver hosts = new HostResolver(h -> {
    if (!dns.containsKey(h)) throw new UnknownHostException(h);
    return new InetAddress[] {ip(dns.get(h))};
  }, now::get);

  PeerGate gate(boolean memberSaysYes) {
    return new PeerGate(hosts, (member, nonce) -> {
      asked.add(member + " " + nonce);
      return CompletableFuture.completedFuture(memberSaysYes);
    }, Runnable::run, List.of(AddressRange.parse("192.168.7.0/24")));
  }

  @Test
  void theMembersOwnAddressIsBelievedWithoutACallBack() {
    assertEquals(PeerGate.Verdict.YES, gate(false).verify(ip("10.0.0.2"), "10.0.0.2:8080", null, true).join());
    assertEquals(PeerGate.Verdict.YES, gate(false).verify(ip("10.1.0.5"), "node-a.svc:8080", null, true).join(), "a DNS name, resolved");
    assertEquals(PeerGate.Verdict.YES, gate(false).verify(ip("::ffff:10.0.0.2"), "10.0.0.2:8080", null, true).join(), "IPv4-mapped");
    assertTrue(asked.isEmpty());
  }

  @Test
  void anotherAddressNeedsTheMembersConfirmation() {
    assertEquals(PeerGate.Verdict.NO, gate(true).verify(ip("10.0.0.9"), "10.0.0.2:8080", null, true).join(), "no nonce, nothing to confirm");
    assertEquals(PeerGate.Verdict.NO, gate(true).verify(ip("10.0.0.9"), "10.0.0.2:8080", "n1", false).join(), "not a listed member: no call-back");
    assertTrue(asked.isEmpty());
    assertEquals(PeerGate.Verdict.NO, gate(false).verify(ip("10.0.0.9"), "10.0.0.2:8080", "n1", true).join());
    assertEquals(PeerGate.Verdict.YES, gate(true).verify(ip("10.0.0.9"), "10.0.0.2:8080", "n2", true).join(), "behind NAT, confirmed");
    assertEquals(List.of("10.0.0.2:8080 n1", "10.0.0.2:8080 n2"), asked);
    assertEquals(PeerGate.Verdict.NO, gate(true).verify(ip("10.0.0.9"), "unknown.svc:8080", null, true).join(), "a name that does not resolve");
  }

  @Test
  void callBacksInFlightAreBounded() {
    CompletableFuture<Boolean> never = new CompletableFuture<>();
    PeerGate g = new PeerGate(hosts, (m, n) -> never, Runnable::run, List.of());
    List<CompletableFuture<PeerGate.Verdict>> pending = new ArrayList<>();
    for (int i = 0; i < PeerGate.MAX_CONFIRMS_IN_FLIGHT; i++) pending.add(g.verify(ip("10.0.0.9"), "10.0.0.2:8080", "n" + i, true));
    assertEquals(PeerGate.Verdict.BUSY, g.verify(ip("10.0.0.9"), "10.0.0.2:8080", "more", true).join());
    never.complete(false);
    for (CompletableFuture<PeerGate.Verdict> p : pending) assertEquals(PeerGate.Verdict.NO, p.join());
  }

  @Test
  void adminIsForLoopbackMembersAndAdminFrom() {
    PeerGate g = gate(false);
    assertTrue(g.adminAllowed(ip("127.0.0.1"), List.of()));
    assertTrue(g.adminAllowed(ip("::1"), List.of()));
    assertFalse(g.adminAllowed(ip("127.0.0.9"), List.of()), "only 127.0.0.1 and ::1 count as the operator's loopback");
    assertTrue(g.adminAllowed(ip("10.1.0.5"), List.of("10.0.0.2:8080", "node-a.svc:8080")), "a member, by DNS name");
    assertTrue(g.adminAllowed(ip("192.168.7.33"), List.of()), "ADMIN_FROM");
    assertFalse(g.adminAllowed(ip("192.168.8.1"), List.of("10.0.0.2:8080")));
  }

  @Test
  void addressRanges() {
    assertTrue(AddressRange.parse("10.0.0.0/8").contains(ip("10.200.3.4")));
    assertFalse(AddressRange.parse("10.0.0.0/9").contains(ip("10.200.3.4")));
    assertTrue(AddressRange.parse("10.0.0.7").contains(ip("10.0.0.7")));
    assertFalse(AddressRange.parse("10.0.0.7").contains(ip("10.0.0.8")));
    assertTrue(AddressRange.parse("0.0.0.0/0").contains(ip("1.2.3.4")));
    assertTrue(AddressRange.parse("fd00::/8").contains(ip("fd12::1")));
    assertFalse(AddressRange.parse("fd00::/8").contains(ip("10.0.0.1")));
    for (String bad : List.of("example.com", "10.0.0.0/33", "10.0.0/8", "10.0.0.0/x", "")) {
      assertThrows(IllegalArgumentException.class, () -> AddressRange.parse(bad), bad);
    }
  }

  @Test
  void noncesAreConfirmedForTheirPeerWhileFreshAndRotate() {
    PeerNonces n = new PeerNonces(now::get);
    String first = n.nonceFor("10.0.0.3:8080");
    assertEquals(first, n.nonceFor("10.0.0.3:8080"), "one nonce per peer at a time");
    assertTrue(n.issued("10.0.0.3:8080", first));
    assertFalse(n.issued("10.0.0.4:8080", first), "issued to another peer");
    assertFalse(n.issued("10.0.0.3:8080", "guess"));
    now.addAndGet(PeerNonces.ROTATE_MILLIS + 1);
    String second = n.nonceFor("10.0.0.3:8080");
    assertFalse(first.equals(second));
    assertTrue(n.issued("10.0.0.3:8080", first), "the previous one, for a while");
    assertTrue(n.issued("10.0.0.3:8080", second));
    now.addAndGet(PeerNonces.ROTATE_MILLIS + 1);
    assertFalse(n.issued("10.0.0.3:8080", first));
    now.addAndGet(PeerNonces.ROTATE_MILLIS);
    assertFalse(n.issued("10.0.0.3:8080", second), "stale once nothing was sent for two periods");
  }
}
