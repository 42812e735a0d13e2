package dev.causalkv.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A small blocking keep-alive HTTP/1.1 client for control calls and probes (admin stats,
 * view changes, replication-lag readers). One instance = one connection; not thread-safe.
 */
final class Http implements AutoCloseable {
  /** A status code and body. */
  static final class Reply {
    final int status;
    final String body;
    Reply(int status, String body) { this.status = status; this.body = body; }
    String payload() {
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      return Http1.jsonObjectField(b, 0, b.length, Http1.PAYLOAD_KEY);
    }
  }

  private final String host;
  private final int port;
  private final int timeoutMs;
  private Socket socket;
  private InputStream in;
  private OutputStream out;
  private final Http1.Response resp = new Http1.Response();

  Http(String hostPort, int timeoutMs) {
    int c = hostPort.lastIndexOf(':');
    this.host = hostPort.substring(0, c);
    this.port = Integer.parseInt(hostPort.substring(c + 1));
    this.timeoutMs = timeoutMs;
  }

  Http(String hostPort) { this(hostPort, 30_000); }

  Reply get(String path) throws IOException { return call("GET", path, null); }

  Reply put(String path, String form) throws IOException { return call("PUT", path, form); }

  Reply delete(String path, String form) throws IOException { return call("DELETE", path, form); }

  Reply call(String method, String path, String form) throws IOException {
    IOException last = null;
    for (int attempt = 0; attempt < 2; attempt++) {
      try {
        return once(method, path, form);
      } catch (IOException e) {
        last = e;
        close();
      }
    }
    throw last;
  }

  private Reply once(String method, String path, String form) throws IOException {
    if (socket == null) {
      socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(host, port), Math.min(timeoutMs, 3000));
      socket.setSoTimeout(timeoutMs);
      in = socket.getInputStream();
      out = socket.getOutputStream();
    }
    byte[] body = form == null ? new byte[0] : form.getBytes(StandardCharsets.UTF_8);
    StringBuilder sb = new StringBuilder(128);
    sb.append(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ").append(host).append("\r\n");
    if (form != null) {
      sb.append("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ").append(body.length).append("\r\n");
    }
    sb.append("\r\n");
    byte[] head = sb.toString().getBytes(StandardCharsets.US_ASCII);
    byte[] all = new byte[head.length + body.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(body, 0, all, head.length, body.length);
    out.write(all);
    out.flush();
    resp.reset();
    while (true) {
      resp.ensure(8192);
      int n = in.read(resp.buf, resp.len, resp.buf.length - resp.len);
      if (n < 0) throw new IOException("connection closed");
      resp.len += n;
      if (resp.complete()) break;
    }
    Reply r = new Reply(resp.status, resp.body());
    if (resp.close) close();
    return r;
  }

  /** Whether anything answers HTTP at hostPort right now. */
  static boolean up(String hostPort) {
    try (Http h = new Http(hostPort, 1000)) {
      h.get("/view");
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public void close() {
    try { if (socket != null) socket.close(); } catch (IOException ignored) { }
    socket = null;
  }
}
