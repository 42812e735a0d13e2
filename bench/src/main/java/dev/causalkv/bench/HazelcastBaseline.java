package dev.causalkv.bench;

final class HazelcastBaseline {
  static void member(String[] a) {}
}
