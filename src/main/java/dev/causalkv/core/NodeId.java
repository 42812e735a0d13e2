package dev.causalkv.core;

import java.util.regex.Pattern;

/**
 * The shapes of the names the protocol trusts: a node id ({@code host:port}, as {@code IP_PORT}
 * and {@code VIEW} give it) and an origin ({@code nodeId#incarnation}). Whatever arrives from the
 * network is checked against these before it can name a member or an author.
 */
public final class NodeId {

  /** host:port, where host is an IPv4 address or a DNS name, and port 1..65535. */
  private static final Pattern HOST_PORT = Pattern.compile("^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?:([1-9][0-9]{0,4})$");
  /** The incarnation suffix a node takes with a fresh origin (base-36 time and random digits). */
  private static final Pattern INCARNATION = Pattern.compile("^[0-9a-z]{1,64}$");

  private NodeId() {}

  /** True for a well-formed {@code host:port}. */
  public static boolean isValid(String s) {
    if (s == null || !HOST_PORT.matcher(s).matches()) return false;
    return Integer.parseInt(s.substring(s.lastIndexOf(':') + 1)) <= 65535;
  }

  /** True for a well-formed origin: a node id, {@code #}, an incarnation. */
  public static boolean isValidOrigin(String s) {
    if (s == null) return false;
    int i = s.lastIndexOf('#');
    return i > 0 && isValid(s.substring(0, i)) && INCARNATION.matcher(s.substring(i + 1)).matches();
  }

  /** The host part of a node id. */
  public static String host(String nodeId) {
    return nodeId.substring(0, nodeId.lastIndexOf(':'));
  }
}
