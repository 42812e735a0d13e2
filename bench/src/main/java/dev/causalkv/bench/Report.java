package dev.causalkv.bench;

import com.google.gson.JsonObject;
import java.nio.file.Path;

final class Report {
  static void write(Path repo, JsonObject r) {}
}
