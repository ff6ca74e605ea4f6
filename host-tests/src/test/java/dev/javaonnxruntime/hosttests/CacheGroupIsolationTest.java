package dev.javaonnxruntime.hosttests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Named keys are scoped to a cache group: a model of another group, loaded in the same server
 * and on the same device cache, can never read a key that a model of the first group stored.
 * Content entries too, unless both models set input_cache_share_content.
 */
class CacheGroupIsolationTest {
  @TempDir Path dir;

  @Test
  void aKeyStoredThroughOneGroupIsNotFoundFromAnother() throws Exception {
    String config = Repos.exampleConfig("two_input", "", "");
    Repos.withConfig(dir, "two_input", "owner", config.replace("two_input", "owner"));
    Repos.withConfig(dir, "two_input", "other", config.replace("two_input", "other"));

    ObjectNode store = Repos.request("two_input/request_b1.json");
    store.putObject("parameters").put("input_cache_key.image", "shared-name");
    ObjectNode reference = Repos.without(store, "image");
    List<String> command = new ArrayList<>(List.of(TritonHost.ROOT.resolve("triton-host").toString(),
        "replay", "--model-repository", dir.toString(),
        "--model", "owner", "--request", Repos.write(dir, "store.json", store),
        "--model", "other", "--request", Repos.write(dir, "reference.json", reference),
        "--repeat", "20", "--warmup", "0"));
    TritonHost.Result r = TritonHost.run(command);

    assertEquals(1, r.exit(), r::toString);
    for (JsonNode line : r.lines()) {
      if (line.path("model").asText().equals("owner")) {
        assertEquals(0, line.path("errors").asInt(), r::toString);
      } else if (line.path("model").asText().equals("other")) {
        assertEquals(20, line.path("errors").asInt(), r::toString);
      }
    }
  }

  @Test
  void unloadingTheLastModelOfAGroupFreesItsEntriesBeforeFinalize() throws Exception {
    String config = Repos.exampleConfig("two_input", "", "")
        + "parameters { key: \"input_cache_group\" value: { string_value: \"shared\" } }\n"
        + "parameters { key: \"input_cache\" value: { string_value: \"key\" } }\n";
    Repos.withConfig(dir, "two_input", "writer", config.replace("two_input", "writer"));
    Repos.withConfig(dir, "two_input", "reader", config.replace("two_input", "reader"));

    ObjectNode store = Repos.request("two_input/request_b1.json");
    store.putObject("parameters").put("input_cache_key.image", "kept");
    ObjectNode reference = Repos.without(store, "image");
    TritonHost.Result r = TritonHost.run(List.of(TritonHost.ROOT.resolve("triton-host").toString(),
        "infer", "--model-repository", dir.toString(),
        "--model", "writer", "--request", Repos.write(dir, "store.json", store),
        "--model", "reader", "--request", Repos.write(dir, "reference.json", reference)));

    assertEquals(0, r.exit(), r::toString);
    // writer unloads first: reader still uses the group, its key stays; then reader, the last.
    assertTrue(r.stderr().contains("model 'reader' was the last of cache group 'shared': 1 named "
        + "entries dropped; the caches now hold 0 bytes"), r::toString);
    assertFalse(r.stderr().contains("model 'writer' was the last"), r::toString);
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void theSameBytesFromTwoGroupsHitOnlyWhenBothShareContent(boolean share) throws Exception {
    String config = Repos.exampleConfig("two_input", "", "")
        + "parameters { key: \"input_cache\" value: { string_value: \"content\" } }\n"
        + (share ? "parameters { key: \"input_cache_share_content\" value: { string_value: "
            + "\"true\" } }\n" : "");
    Repos.withConfig(dir, "two_input", "first", config.replace("two_input", "first"));
    Repos.withConfig(dir, "two_input", "second", config.replace("two_input", "second"));
    Path metrics = dir.resolve("metrics.txt");
    String request = TritonHost.TESTDATA.resolve("two_input/request_b1.json").toString();
    TritonHost.Result r = TritonHost.run(List.of(TritonHost.ROOT.resolve("triton-host").toString(),
        "infer", "--model-repository", dir.toString(),
        "--model", "first", "--request", request, "--model", "second", "--request", request,
        "--metrics", metrics.toString()));

    assertEquals(0, r.exit(), r::toString);
    Path expected = TritonHost.TESTDATA.resolve("two_input/expected_b1.json");
    Outputs.assertMatches(expected, r.line(0));
    Outputs.assertMatches(expected, r.line(1));
    int inputs = Repos.request("two_input/request_b1.json").path("inputs").size();
    String misses = "java_onnxruntime_input_cache_misses_total";
    String hits = "java_onnxruntime_input_cache_hits_total";
    assertEquals(inputs, InputCacheFlowTest.metric(metrics, misses, "first"));
    assertEquals(share ? 0 : inputs, InputCacheFlowTest.metric(metrics, misses, "second"));
    assertEquals(share ? inputs : 0, InputCacheFlowTest.metric(metrics, hits, "second"));
  }
}
