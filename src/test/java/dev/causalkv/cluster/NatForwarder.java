package dev.causalkv.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A published port as Docker's proxy makes one: accepts on {@code listen} and forwards each
 * connection to {@code target}, re-originated from {@code gateway}, so the node behind it sees
 * every caller as the gateway's address (the course's {@code -p 8082:8080} set-up).
 */
final class NatForwarder implements AutoCloseable {

  private final ServerSocket server;
  private final List<Socket> open = new CopyOnWriteArrayList<>();

  NatForwarder(String listenHost, int listenPort, String targetHost, int targetPort, String gateway) throws IOException {
    server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(listenHost, listenPort));
    InetAddress gw = InetAddress.getByName(gateway);
    Thread t = new Thread(() -> {
      while (!server.isClosed()) {
        try {
          Socket in = server.accept();
          Socket out = new Socket();
          out.bind(new InetSocketAddress(gw, 0));
          out.connect(new InetSocketAddress(targetHost, targetPort), 2000);
          open.add(in);
          open.add(out);
          pump(in, out);
          pump(out, in);
        } catch (IOException e) {
          // closed, or the target is down: the caller sees its connection dropped
        }
      }
    }, "nat-accept-" + listenPort);
    t.setDaemon(true);
    t.start();
  }

  private void pump(Socket from, Socket to) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[64 * 1024];
      try (InputStream i = from.getInputStream(); OutputStream o = to.getOutputStream()) {
        int n;
        while ((n = i.read(buf)) >= 0) {
          o.write(buf, 0, n);
          o.flush();
        }
      } catch (IOException e) {
        // one side closed
      } finally {
        close(from);
        close(to);
      }
    }, "nat-pump");
    t.setDaemon(true);
    t.start();
  }

  private static void close(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : open) close(s);
  }
}
