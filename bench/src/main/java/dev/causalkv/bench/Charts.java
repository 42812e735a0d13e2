package dev.causalkv.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/** Small line/scatter charts drawn with Java2D into PNG files; no plotting library needed. */
final class Charts {
  private Charts() {}

  /** A named series of (x, y) points; scatter draws dots instead of lines. */
  record Series(String name, List<double[]> points, boolean scatter) {}

  /** A vertical marker line with a label. */
  record Marker(double x, String label) {}

  static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
      new Color(0x9467bd), new Color(0x8c564b)};

  /**
   * Draws a chart. xTransform: "linear" or "percentile" (x = percentile in [0,100], drawn as
   * log10(1/(1-p/100)) like HdrHistogram's percentile plots). yLog draws y on a log10 axis.
   */
  static void draw(Path file, String title, String xLabel, String yLabel, List<Series> series, List<Marker> markers,
      String xTransform, boolean yLog, double[] xTicks) throws Exception {
    int w = 900, h = 520, l = 80, r = 30, t = 50, b = 70;
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, w, h);
    double minX = Double.MAX_VALUE, maxX = -Double.MAX_VALUE, minY = Double.MAX_VALUE, maxY = -Double.MAX_VALUE;
    for (Series s : series) {
      for (double[] p : s.points()) {
        double x = tx(p[0], xTransform), y = ty(p[1], yLog);
        if (Double.isNaN(x) || Double.isNaN(y) || Double.isInfinite(x) || Double.isInfinite(y)) continue;
        minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y);
      }
    }
    for (Marker m : markers) { minX = Math.min(minX, m.x()); maxX = Math.max(maxX, m.x()); }
    if (minX == Double.MAX_VALUE) { minX = 0; maxX = 1; minY = 0; maxY = 1; }
    if (!yLog) minY = Math.min(0, minY);
    if (maxX == minX) maxX = minX + 1;
    if (maxY == minY) maxY = minY + 1;
    maxY += (maxY - minY) * 0.05;
    final double fMinX = minX, fMaxX = maxX, fMinY = minY, fMaxY = maxY;
    java.util.function.DoubleUnaryOperator px = x -> l + (x - fMinX) / (fMaxX - fMinX) * (w - l - r);
    java.util.function.DoubleUnaryOperator py = y -> h - b - (y - fMinY) / (fMaxY - fMinY) * (h - t - b);
    // axes and grid
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    g.setColor(new Color(0xdddddd));
    int yTicks = 6;
    for (int i = 0; i <= yTicks; i++) {
      double yv = minY + (maxY - minY) * i / yTicks;
      int yy = (int) py.applyAsDouble(yv);
      g.setColor(new Color(0xe5e5e5));
      g.drawLine(l, yy, w - r, yy);
      g.setColor(Color.DARK_GRAY);
      String lab = fmt(yLog ? Math.pow(10, yv) : yv);
      g.drawString(lab, l - 8 - g.getFontMetrics().stringWidth(lab), yy + 4);
    }
    List<Double> xt = new ArrayList<>();
    if (xTicks != null) for (double v : xTicks) xt.add(v);
    else for (int i = 0; i <= 8; i++) xt.add(untx(minX + (maxX - minX) * i / 8, xTransform));
    for (double xv : xt) {
      double x = tx(xv, xTransform);
      if (x < minX - 1e-9 || x > maxX + 1e-9) continue;
      int xx = (int) px.applyAsDouble(x);
      g.setColor(new Color(0xe5e5e5));
      g.drawLine(xx, t, xx, h - b);
      g.setColor(Color.DARK_GRAY);
      String lab = xTransform.equals("percentile") ? pctLabel(xv) : fmt(xv);
      g.drawString(lab, xx - g.getFontMetrics().stringWidth(lab) / 2, h - b + 18);
    }
    g.setColor(Color.BLACK);
    g.drawRect(l, t, w - l - r, h - t - b);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
    g.drawString(title, l, 30);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    g.drawString(xLabel, l + (w - l - r) / 2 - g.getFontMetrics().stringWidth(xLabel) / 2, h - 25);
    Graphics2D g2 = (Graphics2D) g.create();
    g2.rotate(-Math.PI / 2);
    g2.drawString(yLabel, -(t + (h - t - b) / 2) - g.getFontMetrics().stringWidth(yLabel) / 2, 20);
    g2.dispose();
    // markers
    g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {6, 4}, 0));
    int mi = 0;
    for (Marker m : markers) {
      int xx = (int) px.applyAsDouble(m.x());
      g.setColor(new Color(0x555555));
      g.drawLine(xx, t, xx, h - b);
      g.drawString(m.label(), xx + 4, t + 15 + 15 * (mi++ % 3));
    }
    // series
    g.setClip(l, t, w - l - r + 1, h - t - b + 1);
    int si = 0;
    for (Series s : series) {
      Color c = PALETTE[si % PALETTE.length];
      g.setColor(c);
      g.setStroke(new BasicStroke(2f));
      int lastX = Integer.MIN_VALUE, lastY = 0;
      for (double[] p : s.points()) {
        double x = tx(p[0], xTransform), y = ty(p[1], yLog);
        if (Double.isNaN(x) || Double.isNaN(y) || Double.isInfinite(x) || Double.isInfinite(y)) continue;
        int xx = (int) px.applyAsDouble(x), yy = (int) py.applyAsDouble(y);
        if (s.scatter()) g.fillOval(xx - 2, yy - 2, 4, 4);
        else {
          if (lastX != Integer.MIN_VALUE) g.drawLine(lastX, lastY, xx, yy);
          g.fillOval(xx - 3, yy - 3, 6, 6);
        }
        lastX = xx; lastY = yy;
      }
      si++;
    }
    g.setClip(null);
    // legend
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    int legendW = 0;
    for (Series s : series) legendW = Math.max(legendW, g.getFontMetrics().stringWidth(s.name()) + 30);
    boolean bottomRight = xTransform.equals("percentile");
    int lx = bottomRight ? w - r - legendW - 12 : l + 12;
    int ly = bottomRight ? h - b - 12 - 18 * series.size() : t + 10;
    g.setColor(new Color(255, 255, 255, 220));
    g.fillRect(lx - 4, ly - 4, legendW + 8, 18 * series.size() + 4);
    si = 0;
    for (Series s : series) {
      g.setColor(PALETTE[si++ % PALETTE.length]);
      g.fillRect(lx, ly, 12, 12);
      g.setColor(Color.BLACK);
      g.drawString(s.name(), lx + 18, ly + 11);
      ly += 18;
    }
    g.dispose();
    java.nio.file.Files.createDirectories(file.getParent());
    ImageIO.write(img, "png", file.toFile());
  }

  private static double tx(double x, String mode) {
    if (mode.equals("percentile")) return Math.log10(1.0 / Math.max(1e-6, 1.0 - Math.min(x, 99.9999) / 100.0));
    return x;
  }

  private static double untx(double x, String mode) {
    if (mode.equals("percentile")) return 100.0 * (1 - Math.pow(10, -x));
    return x;
  }

  private static double ty(double y, boolean log) {
    return log ? Math.log10(Math.max(y, 1e-3)) : y;
  }

  static String pctLabel(double p) {
    String s = String.format("%.4f", p).replaceAll("0+$", "").replaceAll("\\.$", "");
    return s + "%";
  }

  static String fmt(double v) {
    double a = Math.abs(v);
    if (a >= 10_000) return String.format("%,.0f", v);
    if (a >= 100) return String.format("%.0f", v);
    if (a >= 10) return String.format("%.1f", v);
    if (a >= 1) return String.format("%.2f", v);
    return String.format("%.3f", v);
  }
}
