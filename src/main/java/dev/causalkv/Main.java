package dev.causalkv;
public final class Main { public static void main(String[] a) {} }
