package dev.causalkv.bench;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/**
 * The causal checks the load generator runs on every answer of one client session, cheap enough
 * to leave on in every benchmark (a few hundred nanoseconds per answer, on the client's side):
 *
 * <ul>
 *   <li><b>payload monotonic</b>: every payload a session gets back dominates the one it sent
 *       (docs/design.md §4: a read returns merge(P, VC(S)), a write a clock that includes P);
 *   <li><b>own writes stay</b>: a read never returns a value older than the session's own last
 *       acknowledged write to that key (every value a session writes carries its session id and
 *       write number), and never 404 for a key the session wrote, in mixes without deletes.
 * </ul>
 *
 * Sessions stick to one node, so both are promises the store makes per session. Violations are
 * counted and reported beside each run; a benchmark with a violation is a failed benchmark.
 */
final class SessionCheck {

  /** Origin names seen by one event loop, numbered; one per loop thread, so not thread-safe. */
  static final class Origins {
    private final Map<String, Integer> index = new HashMap<>();

    int of(String origin) {
      Integer i = index.get(origin);
      if (i == null) {
        i = index.size();
        index.put(origin, i);
      }
      return i;
    }
  }

  /** What the checks saw; merged over loops and reported. */
  static final class Counts {
    long payloads;
    long payloadRegressions;
    long ownReads;
    long staleOwnReads;
    long lostOwnWrites;
    long undecodable;

    void add(Counts o) {
      payloads += o.payloads;
      payloadRegressions += o.payloadRegressions;
      ownReads += o.ownReads;
      staleOwnReads += o.staleOwnReads;
      lostOwnWrites += o.lostOwnWrites;
      undecodable += o.undecodable;
    }

    long violations() {
      return payloadRegressions + staleOwnReads + lostOwnWrites + undecodable;
    }
  }

  /** Values shorter than this carry no tag (the own-write check is then off for the run). */
  static final int MIN_TAGGED_VALUE = 24;
  /** Key spaces larger than this keep no per-key record (the own-write check is then off). */
  static final long MAX_TRACKED_KEYS = 200_000;
  private static final byte[] VALUE_FIELD = "\"value\":\"".getBytes(StandardCharsets.US_ASCII);
  private static final Base64.Decoder B64 = Base64.getUrlDecoder();

  private final int session;
  private final Origins origins;
  private final Counts counts;
  private final long[] lastWrite;
  private final boolean deletes;
  private long[] vc = new long[0];
  private long writes;
  private long pendingWrite;

  SessionCheck(int session, Origins origins, Workload w, LoadEngine.Stats stats) {
    this.session = session;
    this.origins = origins;
    this.counts = stats.checks;
    boolean track = w.valueBytes >= MIN_TAGGED_VALUE && w.keys <= MAX_TRACKED_KEYS;
    this.lastWrite = track ? new long[(int) w.keys] : null;
    this.deletes = w.deleteFrac > 0;
  }

  /** Writes this session's tag for its next write over the first bytes of the value at {@code at}. */
  void tagWrite(long keyIdx, byte[] b, int at) {
    if (lastWrite == null) return;
    pendingWrite = ++writes;
    int p = at;
    b[p++] = 's';
    p = Http1.putNum(b, p, session);
    b[p++] = 'n';
    p = Http1.putNum(b, p, pendingWrite);
    b[p] = '_';
  }

  /** Checks one answer (status 200, 201 or 404) carrying {@code payload}. */
  void onAnswer(Workload.Op op, long keyIdx, int status, String payload, Http1.Response r) {
    if (status == 400) return; // refused: its payload is not a promise about state
    checkPayload(payload);
    if (lastWrite == null) return;
    int k = (int) keyIdx;
    if (op == Workload.Op.PUT && (status == 200 || status == 201)) {
      lastWrite[k] = pendingWrite;
    } else if (op == Workload.Op.DELETE && status == 200) {
      lastWrite[k] = 0;
    } else if (op == Workload.Op.GET && lastWrite[k] > 0) {
      counts.ownReads++;
      if (status == 404) {
        if (!deletes) counts.lostOwnWrites++;
      } else if (status == 200) {
        long n = ownWriteIn(r);
        if (n >= 0 && n < lastWrite[k]) counts.staleOwnReads++;
      }
    }
  }

  private void checkPayload(String payload) {
    long[] next;
    try {
      next = decode(payload);
    } catch (RuntimeException e) {
      counts.undecodable++;
      return;
    }
    counts.payloads++;
    for (int i = 0; i < vc.length; i++) {
      if ((i < next.length ? next[i] : 0) < vc[i]) {
        counts.payloadRegressions++;
        break;
      }
    }
    vc = next;
  }

  /** The counters of a payload token (docs/design.md §4), indexed by {@link Origins}. */
  private long[] decode(String token) {
    if (token == null || token.isEmpty() || token.equals("{}")) return new long[0];
    int dot = token.indexOf('.');
    byte[] body = B64.decode(dot < 0 ? token : token.substring(0, dot));
    // body[0] is the format version; version 2 then names the sealing key (6 bytes), version 1 does not
    int[] p = {body[0] == 2 ? 1 + KEY_ID_BYTES : 1};
    long n = varint(body, p);
    long[] out = new long[Math.max(vc.length, 4)];
    for (long e = 0; e < n; e++) {
      int len = (int) varint(body, p);
      String origin = new String(body, p[0], len, StandardCharsets.UTF_8);
      p[0] += len;
      long counter = varint(body, p);
      int i = origins.of(origin);
      if (i >= out.length) out = java.util.Arrays.copyOf(out, Math.max(i + 1, out.length * 2));
      out[i] = counter;
    }
    return out;
  }

  /** Bytes of the sealing key's id in a version-2 token (the node's {@code SealKey.ID_BYTES}). */
  private static final int KEY_ID_BYTES = 6;

  private static long varint(byte[] b, int[] p) {
    long x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      int c = b[p[0]++] & 0xFF;
      x |= (long) (c & 0x7F) << shift;
      if ((c & 0x80) == 0) return x;
    }
    throw new IllegalArgumentException("varint too long");
  }

  /** The write number of a value this session wrote, or -1 if another session wrote it. */
  private long ownWriteIn(Http1.Response r) {
    byte[] b = r.bodyBuf;
    int end = r.bodyEnd;
    outer:
    for (int i = r.bodyStart; i + VALUE_FIELD.length < end; i++) {
      for (int k = 0; k < VALUE_FIELD.length; k++) if (b[i + k] != VALUE_FIELD[k]) continue outer;
      int p = i + VALUE_FIELD.length;
      if (p >= end || b[p] != 's') return -1;
      long sid = 0;
      for (p++; p < end && b[p] >= '0' && b[p] <= '9'; p++) sid = sid * 10 + (b[p] - '0');
      if (sid != session || p >= end || b[p] != 'n') return -1;
      long n = 0;
      for (p++; p < end && b[p] >= '0' && b[p] <= '9'; p++) n = n * 10 + (b[p] - '0');
      return n;
    }
    return -1;
  }
}
