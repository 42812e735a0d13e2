package dev.causalkv.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** A plain text table: columns padded to their widest cell, two spaces apart. */
final class Table {

  private final List<String[]> rows = new ArrayList<>();

  Table(String... header) {
    rows.add(header);
  }

  Table row(Object... cells) {
    String[] r = new String[cells.length];
    for (int i = 0; i < cells.length; i++) r[i] = cells[i] == null ? "-" : cells[i].toString();
    rows.add(r);
    return this;
  }

  void print(PrintWriter out) {
    int cols = 0;
    for (String[] r : rows) cols = Math.max(cols, r.length);
    int[] width = new int[cols];
    for (String[] r : rows) for (int i = 0; i < r.length; i++) width[i] = Math.max(width[i], r[i].length());
    for (String[] r : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < r.length; i++) {
        line.append(r[i]);
        if (i + 1 < r.length) line.append(" ".repeat(width[i] - r[i].length() + 2));
      }
      out.println(line.toString().stripTrailing());
    }
  }
}
