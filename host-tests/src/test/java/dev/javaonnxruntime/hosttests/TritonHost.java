package dev.javaonnxruntime.hosttests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code ./triton-host} (the in-process Triton host driving the real shim, exactly as the
 * image would load it) and captures what it prints: one JSON line per request file on stdout,
 * the log and any contract breach on stderr, and the exit code (0 ok, 1 a request rejected, 2 a
 * contract breach).
 */
final class TritonHost {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Path ROOT = Path.of(System.getProperty("repo.root", "..")).toAbsolutePath().normalize();
  static final Path REPO = ROOT.resolve("model_repository");
  static final Path TESTDATA = ROOT.resolve("build/testdata");
  private static final long TIMEOUT_SECONDS = 300;

  record Result(int exit, List<JsonNode> lines, String stderr) {
    JsonNode line(int i) {
      return lines.get(i);
    }

    @Override
    public String toString() {
      return "exit " + exit + ", stdout " + lines + "\nstderr:\n" + stderr;
    }
  }

  private TritonHost() {}

  /** {@code triton-host infer --model-repository repo --model model} plus the given arguments. */
  static Result infer(Path repo, String model, List<String> args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(ROOT.resolve("triton-host").toString(), "infer",
        "--model-repository", repo.toString(), "--model", model));
    command.addAll(args);
    return run(command);
  }

  static Result run(List<String> command) throws IOException, InterruptedException {
    Path out = Files.createTempFile("host-out", ".txt");
    Path err = Files.createTempFile("host-err", ".txt");
    try {
      Process p = new ProcessBuilder(command).directory(ROOT.toFile())
          .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("triton-host did not finish in " + TIMEOUT_SECONDS + " s: "
            + command + "\n" + Files.readString(err));
      }
      List<JsonNode> lines = new ArrayList<>();
      for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
        if (!line.isBlank()) {
          lines.add(JSON.readTree(line));
        }
      }
      return new Result(p.exitValue(), lines, Files.readString(err));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  static List<String> requests(String... files) {
    List<String> args = new ArrayList<>();
    for (String f : files) {
      args.add("--request");
      args.add(f.startsWith("/") ? f : TESTDATA.resolve(f).toString());
    }
    return args;
  }
}
