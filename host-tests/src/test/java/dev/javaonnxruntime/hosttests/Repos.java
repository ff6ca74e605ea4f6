package dev.javaonnxruntime.hosttests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Builds throwaway model repositories and request files for tests, from the example models. */
final class Repos {
  private Repos() {}

  /** A repository holding {@code model}'s ONNX file under {@code name} with the given config. */
  static Path withConfig(Path dir, String model, String name, String config) throws IOException {
    Path version = dir.resolve(name).resolve("1");
    Files.createDirectories(version);
    Files.copy(TritonHost.REPO.resolve(model).resolve("1/model.onnx"), version.resolve("model.onnx"));
    Files.writeString(dir.resolve(name).resolve("config.pbtxt"), config);
    return dir;
  }

  /** The example model's config.pbtxt with {@code from} replaced by {@code to}. */
  static String exampleConfig(String model, String from, String to) throws IOException {
    String config = Files.readString(TritonHost.REPO.resolve(model).resolve("config.pbtxt"));
    if (!from.isEmpty() && !config.contains(from)) {
      throw new IllegalArgumentException(model + " config has no '" + from + "'");
    }
    return from.isEmpty() ? config : config.replace(from, to);
  }

  /** Writes a request file; returns its path. */
  static String write(Path dir, String name, JsonNode request) throws IOException {
    Path file = dir.resolve(name);
    Files.writeString(file, request.toString());
    return file.toString();
  }

  /** A copy of {@code request} (parameters included) without its input {@code input}. */
  static ObjectNode without(ObjectNode request, String input) {
    ObjectNode copy = request.deepCopy();
    ArrayNode inputs = copy.putArray("inputs");
    for (JsonNode in : request.path("inputs")) {
      if (!in.path("name").asText().equals(input)) {
        inputs.add(in);
      }
    }
    return copy;
  }

  /** A copy of an example request file, as an editable tree. */
  static ObjectNode request(String relative) throws IOException {
    return (ObjectNode) TritonHost.JSON.readTree(TritonHost.TESTDATA.resolve(relative).toFile());
  }
}
