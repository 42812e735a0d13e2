package dev.causalkv.security;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/** An IPv4 or IPv6 address range in CIDR notation ({@code 10.0.0.0/16}), or one address. Immutable. */
public record AddressRange(byte[] network, int prefixBits) {

  private static final Pattern LITERAL = Pattern.compile("^[0-9a-fA-F:.]+$");

  /** Parses {@code a.b.c.d}, {@code a.b.c.d/n} or an IPv6 literal with an optional {@code /n}; throws IllegalArgumentException. */
  public static AddressRange parse(String text) {
    String t = text.strip();
    int slash = t.indexOf('/');
    String ip = slash < 0 ? t : t.substring(0, slash);
    if (!LITERAL.matcher(ip).matches() || ip.indexOf(':') < 0 && ip.chars().filter(c -> c == '.').count() != 3) {
      throw new IllegalArgumentException("'" + text + "' is not an address or CIDR range");
    }
    byte[] addr;
    try {
      addr = InetAddress.getByName(ip).getAddress(); // a literal: parsed, never looked up
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("'" + text + "' is not an address or CIDR range");
    }
    int bits = addr.length * 8;
    if (slash >= 0) {
      try {
        bits = Integer.parseInt(t.substring(slash + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("'" + text + "' has a bad prefix length");
      }
      if (bits < 0 || bits > addr.length * 8) throw new IllegalArgumentException("'" + text + "' has a bad prefix length");
    }
    return new AddressRange(addr, bits);
  }

  public boolean contains(InetAddress a) {
    byte[] b = a.getAddress();
    if (b.length != network.length) return false;
    int full = prefixBits / 8;
    for (int i = 0; i < full; i++) if (b[i] != network[i]) return false;
    int rest = prefixBits % 8;
    if (rest == 0) return true;
    int mask = (0xFF << (8 - rest)) & 0xFF;
    return (b[full] & mask) == (network[full] & mask);
  }
}
