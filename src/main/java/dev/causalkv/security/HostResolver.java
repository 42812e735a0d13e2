package dev.causalkv.security;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;

/**
 * The addresses of a member's host, as the source-address checks compare them: IPv4 literals at
 * once, DNS names (Kubernetes, Compose) through a lookup whose answers are kept for
 * {@link #TTL_MILLIS}, so that only the first check of a name, on a worker thread, blocks.
 */
public final class HostResolver {

  /** A DNS lookup: the production one, or a fixed table in tests. */
  @FunctionalInterface
  public interface Lookup {
    InetAddress[] all(String host) throws UnknownHostException;
  }

  static final long TTL_MILLIS = 10_000;
  static final long NEGATIVE_TTL_MILLIS = 2_000;
  static final int MAX_HOSTS = 10_000;
  private static final Pattern IPV4 = Pattern.compile("^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$");

  private record Entry(Set<InetAddress> addresses, long expiresAtMillis) {}

  private final Lookup lookup;
  private final LongSupplier clockMillis;
  private final Map<String, Entry> cache = new ConcurrentHashMap<>();

  public HostResolver(Lookup lookup, LongSupplier clockMillis) {
    this.lookup = lookup;
    this.clockMillis = clockMillis;
  }

  public static HostResolver system() {
    return new HostResolver(InetAddress::getAllByName, () -> System.nanoTime() / 1_000_000);
  }

  /** The host's addresses if known without blocking (a literal, or a fresh cached answer); else null. */
  public Set<InetAddress> cached(String host) {
    if (IPV4.matcher(host).matches()) return literal(host);
    Entry e = cache.get(host);
    return e != null && e.expiresAtMillis() > clockMillis.getAsLong() ? e.addresses() : null;
  }

  /** The host's addresses, looking them up if needed (blocks); empty when the name does not resolve. */
  public Set<InetAddress> resolve(String host) {
    Set<InetAddress> known = cached(host);
    if (known != null) return known;
    Set<InetAddress> found;
    long ttl = TTL_MILLIS;
    try {
      found = Set.of(lookup.all(host));
    } catch (UnknownHostException | RuntimeException e) {
      found = Set.of();
      ttl = NEGATIVE_TTL_MILLIS;
    }
    if (cache.size() >= MAX_HOSTS) cache.clear();
    cache.put(host, new Entry(found, clockMillis.getAsLong() + ttl));
    return found;
  }

  private static Set<InetAddress> literal(String ip) {
    try {
      return Set.of(InetAddress.getByName(ip)); // a literal: parsed, never looked up
    } catch (UnknownHostException e) {
      return Set.of();
    }
  }
}
