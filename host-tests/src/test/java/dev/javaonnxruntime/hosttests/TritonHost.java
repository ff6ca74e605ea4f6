package dev.javaonnxruntime.hosttests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs {@code ./triton-host} (the in-process Triton host driving the real shim, exactly as the
 * image would load it) and captures what it prints: one JSON line per request file on stdout,
 * the log and any contract breach on stderr, and the exit code (0 ok, 1 a request rejected, 2 a
 * contract breach). Its stderr also carries the host's counts per model at unload (requests left with
 * the backend, answered, released), which {@link #assertSettledOnce} checks.
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

  /**
   * JVM options that take the garbage collector away: Epsilon allocates and never collects, so a
   * JavaCPP pointer left to the GC stays counted, and a count back at its baseline proves that an
   * owner closed every pointer. (JavaCPP's own noPointerGC switch cannot prove it: with it JavaCPP
   * counts nothing at all.)
   */
  static final String NO_GC = "-XX:+UnlockExperimentalVMOptions -XX:+UseEpsilonGC -Xms2g -Xmx2g";
  /** What the backend logs at finalize when it holds nothing and JavaCPP counts nothing. */
  static final String NOTHING_LEFT = "native memory after finalize: 0 bytes held by the backend in "
      + "host memory, JavaCPP counts 0 bytes in 0 pointers";
  private static final Pattern SETTLED = Pattern.compile("model '([^']+)': Execute left (\\d+) "
      + "request\\(s\\) with the backend, which answered (\\d+) and released (\\d+)");

  private TritonHost() {}

  /** The host arguments that start the backend's JVM with these options (space separated). */
  static List<String> jvmOptions(String... options) {
    return List.of("--backend-config", "java_onnxruntime,jvm-options=" + String.join(" ", options));
  }

  /**
   * Asserts what the host counted at {@code model}'s unload: Execute left {@code requests}
   * requests with the backend, which sent one final response for each and released each once.
   */
  static void assertSettledOnce(Result r, String model, long requests) {
    assertEquals(requests, assertSettledOnce(r, model), r::toString);
  }

  /**
   * Asserts that every request Execute left with the backend was answered and released by it,
   * as the host counted at {@code model}'s unload, and returns how many there were. A second
   * response, a second release or a release without a response is a contract breach, which the
   * host prints and which fails this too.
   */
  static long assertSettledOnce(Result r, String model) {
    assertFalse(r.stderr().contains("contract breach"), r::toString);
    Matcher m = SETTLED.matcher(r.stderr());
    while (m.find()) {
      if (m.group(1).equals(model)) {
        long owned = Long.parseLong(m.group(2));
        assertEquals(List.of(owned, owned), List.of(Long.parseLong(m.group(3)),
            Long.parseLong(m.group(4))), () -> "answered and released, of " + owned + "\n" + r);
        return owned;
      }
    }
    throw new AssertionError("no unload count for model '" + model + "'\n" + r);
  }

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
