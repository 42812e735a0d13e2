package dev.causalkv.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Drives many client sessions over keep-alive HTTP/1.1 connections from a few NIO
 * event-loop threads (like wrk): one session per connection, each echoing the last causal
 * payload it received, as a real client of the store does.
 *
 * <p>Closed loop: a session sends its next request as soon as the previous answer arrives
 * (maximum throughput). Open loop: each session has a fixed schedule of intended send
 * times (rate / connections per second) and latency is measured from the intended time,
 * not the actual send, so a stalled server cannot hide its queueing delay (Gil Tene's
 * "coordinated omission"; the same correction as wrk2). Requests whose intended time falls
 * in the warm-up are not recorded.
 */
final class LoadEngine {

  static final class Config {
    String label = "load";
    List<InetSocketAddress> targets = new ArrayList<>();
    int connections = 32;
    int threads = 2;
    double ratePerSec = 0; // 0 = closed loop
    long durationMs = 5000;
    long warmupMs = 1000;
    long maxOps = Long.MAX_VALUE; // for the sequential "load" mix: total writes
    Workload workload;
    String fixedPayload; // when set, sessions always send this payload and never update it
    boolean progress = true;
    long seed = 42;
    /** Run by the driving thread when the measured window opens and closes (CPU and /proc meters). */
    Runnable onMeasureStart;
    Runnable onMeasureEnd;
    /** Run the session checks of {@link SessionCheck} on every answer (off for fixed-payload clients). */
    boolean check = true;
    /** When set, the run ends as soon as it turns true (background clients of a phase). */
    java.util.concurrent.atomic.AtomicBoolean stop;
  }

  private final Config cfg;
  private final LongAdder progressOps = new LongAdder();
  private final AtomicLong seqCounter = new AtomicLong();

  LoadEngine(Config cfg) {
    this.cfg = cfg;
  }

  Result run() throws Exception {
    int threads = Math.max(1, Math.min(cfg.threads, cfg.connections));
    long startNs = System.nanoTime() + 50_000_000L;
    long warmEndNs = startNs + cfg.warmupMs * 1_000_000L;
    long endNs = warmEndNs + cfg.durationMs * 1_000_000L;
    List<Loop> loops = new ArrayList<>();
    List<Thread> ts = new ArrayList<>();
    int connIdx = 0;
    for (int t = 0; t < threads; t++) {
      int n = cfg.connections / threads + (t < cfg.connections % threads ? 1 : 0);
      Loop loop = new Loop(t, connIdx, n, startNs, warmEndNs, endNs);
      connIdx += n;
      loops.add(loop);
      Thread th = new Thread(loop, "load-" + cfg.label + "-" + t);
      th.setDaemon(true);
      ts.add(th);
    }
    ts.forEach(Thread::start);
    boolean tty = System.console() != null;
    long lastOps = 0;
    long lastT = System.nanoTime();
    long lastPrint = lastT;
    boolean started = false;
    boolean ended = false;
    while (true) {
      long now = System.nanoTime();
      if (!started && now >= warmEndNs) { started = true; if (cfg.onMeasureStart != null) cfg.onMeasureStart.run(); }
      if (!ended && now >= endNs) { ended = true; if (cfg.onMeasureEnd != null) cfg.onMeasureEnd.run(); }
      boolean alive = false;
      for (Thread th : ts) alive |= th.isAlive();
      if (!alive) break;
      long next = !started ? warmEndNs : !ended ? endNs : now + 1_000_000_000L;
      long waitMs = Math.max(1, Math.min(1000, (next - now) / 1_000_000L));
      Thread.sleep(waitMs);
      now = System.nanoTime();
      if (cfg.progress && now - lastPrint >= 1_000_000_000L) {
        long ops = progressOps.sum();
        double rate = (ops - lastOps) * 1e9 / Math.max(1, now - lastT);
        double el = (now - startNs) / 1e9;
        String phase = now < warmEndNs ? "warm-up" : "measure";
        String line = String.format("  [%s] %s %5.1fs  %,10d ops  %,9.0f ops/s", cfg.label, phase, el, ops, rate);
        if (tty) System.err.print("\r" + line + "   "); else System.err.println(line);
        lastOps = ops; lastT = now; lastPrint = now;
      }
    }
    if (!started && cfg.onMeasureStart != null) cfg.onMeasureStart.run();
    if (!ended && cfg.onMeasureEnd != null) cfg.onMeasureEnd.run();
    if (cfg.progress && tty) System.err.println();
    Result r = new Result(cfg.label);
    r.connections = cfg.connections;
    r.targetRate = cfg.ratePerSec;
    r.workload = cfg.workload.describe();
    for (Loop l : loops) {
      if (l.failure != null) throw new IllegalStateException("load loop failed", l.failure);
      r.add(l.stats);
    }
    r.seconds = l0Seconds(loops);
    r.totalOps = progressOps.sum();
    return r;
  }

  private static double l0Seconds(List<Loop> loops) {
    double s = 0;
    for (Loop l : loops) s = Math.max(s, l.measuredSeconds);
    return s;
  }

  /** One client session on one keep-alive connection. */
  private static final class Conn {
    final int id;
    final InetSocketAddress target;
    SocketChannel ch;
    SelectionKey key;
    ByteBuffer out;
    final Http1.Response resp = new Http1.Response();
    String payloadEnc = ""; // URL-encoded payload JSON, "" = none yet
    Workload.Op op;
    long intendedNs;
    long nextNs;
    long keyIdx;
    boolean busy;
    long sent;
    final SessionCheck check;

    Conn(int id, InetSocketAddress target, SessionCheck check) { this.id = id; this.target = target; this.check = check; }
  }

  private final class Loop implements Runnable {
    final int index;
    final int firstConn;
    final int n;
    final long startNs;
    final long warmEndNs;
    final long endNs;
    final Stats stats = new Stats();
    final SplittableRandom rnd;
    final Workload.KeyChooser chooser;
    final byte[] valueChars;
    Throwable failure;
    double measuredSeconds;
    final PriorityQueue<Conn> timers = new PriorityQueue<>((a, b) -> Long.compare(a.nextNs, b.nextNs));
    byte[] scratch;
    final long intervalNs;
    final String fixedEnc;
    final SessionCheck.Origins origins = new SessionCheck.Origins();

    Loop(int index, int firstConn, int n, long startNs, long warmEndNs, long endNs) {
      this.index = index; this.firstConn = firstConn; this.n = n;
      this.startNs = startNs; this.warmEndNs = warmEndNs; this.endNs = endNs;
      this.rnd = new SplittableRandom(cfg.seed * 31 + index);
      this.chooser = cfg.workload.chooser();
      int vb = cfg.workload.valueBytes;
      this.valueChars = new byte[vb + 4096];
      for (int i = 0; i < valueChars.length; i++) valueChars[i] = Http1.VALUE_CHARS[rnd.nextInt(Http1.VALUE_CHARS.length)];
      this.scratch = new byte[vb + 8192];
      this.intervalNs = cfg.ratePerSec > 0 ? (long) (1e9 * cfg.connections / cfg.ratePerSec) : 0;
      this.fixedEnc = cfg.fixedPayload == null ? null : Http1.urlEncode(cfg.fixedPayload);
    }

    @Override
    public void run() {
      try (Selector sel = Selector.open()) {
        List<Conn> conns = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          int gid = firstConn + i;
          SessionCheck chk = cfg.check && fixedEnc == null ? new SessionCheck(gid, origins, cfg.workload, stats) : null;
          Conn c = new Conn(gid, cfg.targets.get(gid % cfg.targets.size()), chk);
          if (fixedEnc != null) c.payloadEnc = fixedEnc;
          conns.add(c);
          connect(sel, c);
          // stagger open-loop schedules across the interval
          c.nextNs = startNs + (intervalNs > 0 ? (intervalNs * gid / cfg.connections) : 0);
          timers.add(c);
        }
        while (true) {
          long now = System.nanoTime();
          if (now >= endNs || (cfg.stop != null && cfg.stop.get())) break;
          if (cfg.workload.sequential && seqCounter.get() >= cfg.maxOps && allIdle(conns)) break;
          // fire due timers
          while (!timers.isEmpty() && timers.peek().nextNs <= now) {
            Conn c = timers.poll();
            if (c.ch == null || !c.ch.isConnected()) { c.nextNs = now + 5_000_000L; timers.add(c); tryReconnect(sel, c); continue; }
            send(c, c.nextNs);
          }
          long waitNs = timers.isEmpty() ? 100_000_000L : timers.peek().nextNs - System.nanoTime();
          waitNs = Math.min(waitNs, endNs - System.nanoTime());
          int ready;
          if (waitNs >= 1_000_000L) ready = sel.select(waitNs / 1_000_000L);
          else if (waitNs > 0) { ready = sel.selectNow(); if (ready == 0) { LockSupport.parkNanos(Math.min(waitNs, 200_000L)); ready = sel.selectNow(); } }
          else ready = sel.selectNow();
          if (ready == 0) continue;
          Iterator<SelectionKey> it = sel.selectedKeys().iterator();
          while (it.hasNext()) {
            SelectionKey k = it.next();
            it.remove();
            Conn c = (Conn) k.attachment();
            try {
              if (!k.isValid()) continue;
              if (k.isConnectable()) {
                c.ch.finishConnect();
                k.interestOps(SelectionKey.OP_READ);
                continue;
              }
              if (k.isWritable()) {
                c.ch.write(c.out);
                if (!c.out.hasRemaining()) k.interestOps(SelectionKey.OP_READ);
              }
              if (k.isReadable()) onReadable(sel, c);
            } catch (IOException e) {
              ioFailure(sel, c);
            }
          }
        }
        measuredSeconds = (Math.min(System.nanoTime(), endNs) - warmEndNs) / 1e9;
        for (Conn c : conns) closeQuietly(c);
      } catch (Throwable t) {
        failure = t;
      }
    }

    private boolean allIdle(List<Conn> conns) {
      for (Conn c : conns) if (c.busy) return false;
      return true;
    }

    private void connect(Selector sel, Conn c) throws IOException {
      c.ch = SocketChannel.open();
      c.ch.configureBlocking(false);
      c.ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      c.ch.connect(c.target);
      // blocking-ish connect is fine on loopback; finish it here to keep the state machine simple
      long deadline = System.nanoTime() + 2_000_000_000L;
      while (!c.ch.finishConnect()) {
        if (System.nanoTime() > deadline) throw new IOException("connect timeout " + c.target);
        Thread.onSpinWait();
      }
      c.key = c.ch.register(sel, SelectionKey.OP_READ, c);
    }

    private void tryReconnect(Selector sel, Conn c) {
      try {
        closeQuietly(c);
        connect(sel, c);
      } catch (IOException e) {
        closeQuietly(c);
        c.ch = null;
      }
    }

    private void closeQuietly(Conn c) {
      try { if (c.key != null) c.key.cancel(); if (c.ch != null) c.ch.close(); } catch (IOException ignored) { }
    }

    private void ioFailure(Selector sel, Conn c) {
      long t = System.nanoTime();
      if (c.busy && t >= warmEndNs && t <= endNs) stats.ioErrors++;
      c.busy = false;
      closeQuietly(c);
      c.ch = null;
      c.nextNs = System.nanoTime() + 10_000_000L;
      timers.remove(c);
      timers.add(c);
    }

    private void send(Conn c, long intendedNs) {
      Workload wl = cfg.workload;
      long keyIdx;
      if (wl.sequential) {
        keyIdx = seqCounter.getAndIncrement();
        if (keyIdx >= cfg.maxOps) { c.nextNs = Long.MAX_VALUE; return; }
        keyIdx = keyIdx % wl.keys;
      } else {
        keyIdx = chooser.next(rnd);
      }
      Workload.Op op = wl.pick(rnd);
      c.op = op;
      c.keyIdx = keyIdx;
      c.intendedNs = intendedNs;
      byte[] b = scratch;
      int p;
      String key = wl.keyPrefix + keyIdx;
      String pl = c.payloadEnc;
      switch (op) {
        case PUT: {
          int vb = wl.valueBytes;
          long bodyLen = 4 + vb + (pl.isEmpty() ? 0 : 9 + pl.length());
          int need = 512 + key.length() + (int) bodyLen;
          if (need > b.length) { scratch = b = new byte[need * 2]; }
          p = Http1.put(b, 0, "PUT /keyValue-store/");
          p = Http1.put(b, p, key);
          p = Http1.put(b, p, " HTTP/1.1\r\nHost: b\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ");
          p = Http1.putNum(b, p, bodyLen);
          p = Http1.put(b, p, "\r\n\r\nval=");
          System.arraycopy(valueChars, rnd.nextInt(4096), b, p, vb);
          if (c.check != null) c.check.tagWrite(keyIdx, b, p);
          p += vb;
          if (!pl.isEmpty()) { p = Http1.put(b, p, "&payload="); p = Http1.put(b, p, pl); }
          break;
        }
        default: {
          int need = 512 + key.length() + pl.length();
          if (need > b.length) { scratch = b = new byte[need * 2]; }
          p = Http1.put(b, 0, op == Workload.Op.DELETE ? "DELETE " : "GET ");
          p = Http1.put(b, p, op == Workload.Op.SEARCH ? "/keyValue-store/search/" : "/keyValue-store/");
          p = Http1.put(b, p, key);
          if (!pl.isEmpty()) { p = Http1.put(b, p, "?payload="); p = Http1.put(b, p, pl); }
          p = Http1.put(b, p, " HTTP/1.1\r\nHost: b\r\n\r\n");
        }
      }
      if (c.out == null || c.out.capacity() < p) c.out = ByteBuffer.allocateDirect(Math.max(p, 8192) * 2);
      c.out.clear();
      c.out.put(b, 0, p).flip();
      c.resp.reset();
      c.busy = true;
      long ts = System.nanoTime();
      if (ts >= warmEndNs && ts <= endNs) stats.bytesSent += p;
      try {
        c.ch.write(c.out);
        if (c.out.hasRemaining()) c.key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
      } catch (IOException e) {
        ioFailure(c.key.selector(), c);
      }
    }

    private void onReadable(Selector sel, Conn c) throws IOException {
      Http1.Response r = c.resp;
      while (true) {
        r.ensure(8192);
        ByteBuffer bb = ByteBuffer.wrap(r.buf, r.len, r.buf.length - r.len);
        int got = c.ch.read(bb);
        if (got < 0) throw new IOException("closed by server");
        if (got == 0) return;
        r.len += got;
        if (!c.busy) return; // stray bytes
        if (r.complete()) break;
      }
      long now = System.nanoTime();
      c.busy = false;
      int st = r.status;
      // Record what completes inside the measured window. In open loop a saturated server's
      // backlog makes intended times fall behind; their full delay counts (no omission).
      if (now >= warmEndNs && now <= endNs) {
        long micros = Math.max(1, (now - c.intendedNs) / 1000);
        stats.record(c.op, st, micros);
        stats.bytesReceived += r.len;
      }
      progressOps.increment();
      if (fixedEnc == null && (st == 200 || st == 201 || st == 404 || st == 400)) {
        String pl = r.payload();
        if (c.check != null) c.check.onAnswer(c.op, c.keyIdx, st, pl, r);
        if (pl != null && !pl.equals("{}")) c.payloadEnc = Http1.urlEncode(pl);
      }
      if (r.close) { tryReconnect(sel, c); }
      // schedule next request
      if (intervalNs == 0) {
        c.nextNs = now;
        send(c, now);
      } else {
        c.nextNs += intervalNs;
        if (c.nextNs <= now) send(c, c.nextNs);
        else timers.add(c);
      }
    }
  }

  /** Per-thread counters and histograms; merged at the end. */
  static final class Stats {
    final org.HdrHistogram.Histogram[] hist = new org.HdrHistogram.Histogram[Workload.Op.values().length];
    final long[] ok = new long[hist.length];
    long notFound;
    long outOfDate;
    long otherErrors;
    long ioErrors;
    long bytesSent;
    long bytesReceived;
    final SessionCheck.Counts checks = new SessionCheck.Counts();

    Stats() {
      for (int i = 0; i < hist.length; i++) hist[i] = new org.HdrHistogram.Histogram(60_000_000L, 3);
    }

    void record(Workload.Op op, int status, long micros) {
      hist[op.ordinal()].recordValue(Math.min(micros, 60_000_000L));
      if (status == 200 || status == 201) ok[op.ordinal()]++;
      else if (status == 404) notFound++;
      else if (status == 400) outOfDate++;
      else otherErrors++;
    }
  }

  static String ascii(byte[] b, int from, int to) {
    return new String(b, from, to - from, StandardCharsets.US_ASCII);
  }
}
