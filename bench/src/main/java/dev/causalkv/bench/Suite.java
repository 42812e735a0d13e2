package dev.causalkv.bench;

final class Suite {
  static void main(String[] a) {}
}
