package dev.causalkv.bench;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * What a client session does: the operation mix, how keys are drawn and how big values are.
 *
 * <p>Mixes are named the way the report names them: {@code read95} (95% GET / 5% PUT),
 * {@code mix50} (50/50), {@code write} (PUT only), {@code delete} (delete-heavy:
 * 40% PUT, 40% DELETE, 20% GET), {@code read} (GET only), {@code search} (search only)
 * and {@code load} (every key of the key space written once, in order).
 */
final class Workload {
  enum Op { GET, PUT, DELETE, SEARCH }

  final String mix;
  final double getFrac;
  final double putFrac;
  final double deleteFrac;
  final boolean sequential;
  final boolean zipfian;
  final long keys;
  final int valueBytes;
  final String keyPrefix;

  Workload(String mix, boolean zipfian, long keys, int valueBytes, String keyPrefix) {
    this.mix = mix;
    this.zipfian = zipfian;
    this.keys = keys;
    this.valueBytes = valueBytes;
    this.keyPrefix = keyPrefix;
    boolean seq = false;
    switch (mix.toLowerCase(Locale.ROOT)) {
      case "read95": getFrac = 0.95; putFrac = 0.05; deleteFrac = 0; break;
      case "mix50": getFrac = 0.50; putFrac = 0.50; deleteFrac = 0; break;
      case "write": getFrac = 0; putFrac = 1; deleteFrac = 0; break;
      case "read": getFrac = 1; putFrac = 0; deleteFrac = 0; break;
      case "search": getFrac = 0; putFrac = 0; deleteFrac = 0; break;
      case "delete": getFrac = 0.20; putFrac = 0.40; deleteFrac = 0.40; break;
      case "load": getFrac = 0; putFrac = 1; deleteFrac = 0; seq = true; break;
      default: throw new IllegalArgumentException("unknown mix " + mix);
    }
    this.sequential = seq;
  }

  Op pick(SplittableRandom r) {
    double u = r.nextDouble();
    if (u < getFrac) return Op.GET;
    if (u < getFrac + putFrac) return Op.PUT;
    if (u < getFrac + putFrac + deleteFrac) return Op.DELETE;
    return Op.SEARCH;
  }

  String describe() {
    return mix + (sequential ? "" : (zipfian ? " zipf" : " uniform")) + " keys=" + keys + " value=" + valueBytes + "B";
  }

  /** Draws key indexes; one instance per thread. */
  interface KeyChooser {
    long next(SplittableRandom r);
  }

  KeyChooser chooser() {
    if (zipfian) return new Zipfian(keys, 0.99);
    long n = keys;
    return r -> r.nextLong(n);
  }

  /**
   * The YCSB Zipfian generator (Gray et al., "Quickly generating billion-record synthetic
   * databases", SIGMOD 1994): constant time per draw after computing zeta(n) once.
   * Item 0 is the hottest.
   */
  static final class Zipfian implements KeyChooser {
    private final long n;
    private final double theta;
    private final double alpha;
    private final double zetan;
    private final double eta;

    Zipfian(long n, double theta) {
      this.n = n;
      this.theta = theta;
      this.alpha = 1.0 / (1.0 - theta);
      this.zetan = zeta(n, theta);
      double zeta2 = zeta(2, theta);
      this.eta = (1 - Math.pow(2.0 / n, 1 - theta)) / (1 - zeta2 / zetan);
    }

    private static double zeta(long n, double theta) {
      double s = 0;
      for (long i = 1; i <= n; i++) s += 1.0 / Math.pow(i, theta);
      return s;
    }

    @Override
    public long next(SplittableRandom r) {
      double u = r.nextDouble();
      double uz = u * zetan;
      if (uz < 1.0) return 0;
      if (uz < 1.0 + Math.pow(0.5, theta)) return 1;
      long v = (long) (n * Math.pow(eta * u - eta + 1, alpha));
      return Math.min(v, n - 1);
    }
  }
}
