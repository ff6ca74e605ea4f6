package dev.javaonnxruntime.hosttests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The input cache end to end through the host, on KIND_CPU instances (its host-memory form):
 * client-named keys spare a client from resending an input, content keys serve repeats, results
 * never change, and the figures reach Triton's metrics.
 */
class InputCacheFlowTest {
  @TempDir Path dir;

  @Test
  void namedKeyServesALaterRequestThatOmitsTheInput() throws Exception {
    ObjectNode store = Repos.request("two_input/request_b1.json");
    store.putObject("parameters").put("input_cache_key.image", "img-1");
    ObjectNode reuse = Repos.without(store, "image");
    ObjectNode unknown = reuse.deepCopy();
    ((ObjectNode) unknown.path("parameters")).put("input_cache_key.image", "never-stored");

    List<String> args = TritonHost.requests(Repos.write(dir, "store.json", store),
        Repos.write(dir, "reuse.json", reuse), Repos.write(dir, "unknown.json", unknown),
        Repos.write(dir, "reuse2.json", reuse));
    args.addAll(List.of("--metrics", dir.resolve("metrics.txt").toString()));
    TritonHost.Result r = TritonHost.infer(TritonHost.REPO, "two_input", args);

    assertEquals(1, r.exit(), r::toString);
    Path expected = TritonHost.TESTDATA.resolve("two_input/expected_b1.json");
    Outputs.assertMatches(expected, r.line(0));
    Outputs.assertMatches(expected, r.line(1));
    String error = r.line(2).path("error").asText();
    assertTrue(error.contains("never-stored") && error.contains("resend"), error);
    Outputs.assertMatches(expected, r.line(3));
    assertEquals(2.0, metric(dir.resolve("metrics.txt"), "java_onnxruntime_input_cache_hits_total", "two_input"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"conv_net", "text_encoder", "vit_patch", "two_input", "dtypes"})
  void contentCacheGivesTheSameOutputsAndHitsOnRepeats(String model) throws Exception {
    String config = Repos.exampleConfig(model, "", "")
        + "parameters { key: \"input_cache\" value: { string_value: \"content\" } }\n";
    Repos.withConfig(dir, model, model, config);
    List<String> args = TritonHost.requests(model + "/request_b1.json", model + "/request_b2.json",
        model + "/request_b1.json");
    args.addAll(List.of("--repeat", "3", "--metrics", dir.resolve("metrics.txt").toString()));
    TritonHost.Result r = TritonHost.infer(dir, model, args);

    assertEquals(0, r.exit(), r::toString);
    Outputs.assertMatches(TritonHost.TESTDATA.resolve(model + "/expected_b1.json"), r.line(0));
    Outputs.assertMatches(TritonHost.TESTDATA.resolve(model + "/expected_b2.json"), r.line(1));
    Outputs.assertMatches(TritonHost.TESTDATA.resolve(model + "/expected_b1.json"), r.line(2));
    int inputs = r.line(0).isMissingNode() ? 0 : inputCount(model);
    // 9 requests, two distinct payloads: every input misses once per payload, then hits.
    double hits = metric(dir.resolve("metrics.txt"), "java_onnxruntime_input_cache_hits_total", model);
    double misses = metric(dir.resolve("metrics.txt"), "java_onnxruntime_input_cache_misses_total", model);
    assertEquals(2.0 * inputs, misses, "misses");
    assertEquals(7.0 * inputs, hits, "hits");
  }

  private static int inputCount(String model) throws Exception {
    return Repos.request(model + "/request_b1.json").path("inputs").size();
  }

  /** Sums a metric's values over the series labelled with the model. */
  static double metric(Path file, String name, String model) throws Exception {
    Pattern p = Pattern.compile("^" + name + "\\{([^}]*)\\}\\s+(\\S+)$");
    double sum = 0;
    List<String> seen = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      Matcher m = p.matcher(line.trim());
      if (m.matches() && m.group(1).contains("model=\"" + model + "\"")) {
        sum += Double.parseDouble(m.group(2));
        seen.add(line);
      }
    }
    assertTrue(!seen.isEmpty(), () -> "no " + name + " for " + model + " in " + file);
    return sum;
  }
}
