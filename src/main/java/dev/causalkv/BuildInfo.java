package dev.causalkv;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The build's version, from the Maven project version (a resource filtered at build time). */
public final class BuildInfo {

  private static final String VERSION = load();

  private BuildInfo() {}

  /** The Maven project version, e.g. {@code 1.0.0-SNAPSHOT}; {@code unknown} when run from unfiltered sources. */
  public static String version() {
    return VERSION;
  }

  private static String load() {
    try (InputStream in = BuildInfo.class.getResourceAsStream("build.properties")) {
      if (in == null) return "unknown";
      Properties p = new Properties();
      p.load(in);
      String v = p.getProperty("version", "unknown");
      return v.startsWith("${") ? "unknown" : v;
    } catch (IOException e) {
      return "unknown";
    }
  }
}
