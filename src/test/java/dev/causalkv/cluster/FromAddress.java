package dev.causalkv.cluster;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Map;
import javax.net.SocketFactory;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/** HTTP calls that leave from a chosen local address (127.0.0.9, say): a caller on another host, as the source checks see it. */
final class FromAddress {

  /** One answer: status and body text. */
  record Answer(int status, String body) {}

  private final OkHttpClient http;

  FromAddress(String localAddress) {
    InetAddress local;
    try {
      local = InetAddress.getByName(localAddress);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    this.http = new OkHttpClient.Builder()
        .socketFactory(new SocketFactory() {
          @Override
          public Socket createSocket() throws IOException {
            Socket s = new Socket();
            s.bind(new InetSocketAddress(local, 0));
            return s;
          }

          @Override
          public Socket createSocket(String host, int port) throws IOException {
            return new Socket(host, port, local, 0);
          }

          @Override
          public Socket createSocket(String host, int port, InetAddress l, int lp) throws IOException {
            return new Socket(host, port, l, lp);
          }

          @Override
          public Socket createSocket(InetAddress host, int port) throws IOException {
            return new Socket(host, port, local, 0);
          }

          @Override
          public Socket createSocket(InetAddress host, int port, InetAddress l, int lp) throws IOException {
            return new Socket(host, port, l, lp);
          }
        })
        .readTimeout(Duration.ofSeconds(20))
        .retryOnConnectionFailure(false)
        .build();
  }

  Answer call(String method, String node, String path, String body, Map<String, String> headers) {
    Request.Builder b = new Request.Builder().url("http://" + node + path);
    headers.forEach(b::header);
    RequestBody rb = body == null ? null : RequestBody.create(body, MediaType.get("application/json"));
    if (rb == null && (method.equals("POST") || method.equals("PUT"))) rb = RequestBody.create(new byte[0]);
    b.method(method, rb);
    try (Response r = http.newCall(b.build()).execute()) {
      return new Answer(r.code(), r.body() == null ? "" : r.body().string());
    } catch (IOException e) {
      throw new AssertionError(method + " " + path + " from a bound address failed", e);
    }
  }

  Answer call(String method, String node, String path, String body) {
    return call(method, node, path, body, Map.of());
  }

  void close() {
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }
}
