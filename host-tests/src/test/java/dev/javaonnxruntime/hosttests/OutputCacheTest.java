package dev.javaonnxruntime.hosttests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Outputs that stay (issue G), on KIND_CPU instances, whose cache lives in host memory: the
 * encoder's {@code features} kept under a client's key with {@code output_cache_key.features}
 * feed the head of the same cache group through {@code input_cache_key.features}, without
 * travelling back to the client, and the head answers exactly as if the client had sent them.
 */
class OutputCacheTest {
  @TempDir Path dir;

  private static ObjectNode encoderRequest(String key, String... outputs) throws Exception {
    ObjectNode r = Repos.request("chain_encoder/request_b1.json");
    if (key != null) {
      r.putObject("parameters").put("output_cache_key.features", key);
    }
    if (outputs.length > 0) {
      var list = r.putArray("outputs");
      for (String o : outputs) {
        list.addObject().put("name", o);
      }
    }
    return r;
  }

  private static ObjectNode headByKey(String key) {
    ObjectNode r = TritonHost.JSON.createObjectNode();
    r.putArray("inputs");
    r.putObject("parameters").put("input_cache_key.features", key);
    return r;
  }

  private TritonHost.Result infer(Object... modelAndRequest) throws Exception {
    List<String> command = new ArrayList<>(List.of(TritonHost.ROOT.resolve("triton-host").toString(),
        "infer", "--model-repository", TritonHost.REPO.toString()));
    for (int i = 0; i < modelAndRequest.length; i += 2) {
      command.addAll(List.of("--model", (String) modelAndRequest[i], "--request",
          Repos.write(dir, "r" + i + ".json", (JsonNode) modelAndRequest[i + 1])));
    }
    return TritonHost.run(command);
  }

  @Test
  void keptOutputFeedsTheNextModelOfTheGroupAndIsNotSentBack() throws Exception {
    TritonHost.Result r = infer("chain_encoder", encoderRequest("f-1", "score"),
        "chain_head", headByKey("f-1"));
    assertEquals(0, r.exit(), r::toString);
    JsonNode encoder = r.line(0);
    assertNull(Outputs.find(encoder, "features"), () -> "features were not asked for: " + encoder);
    Outputs.assertMatches(expectedOnly("chain_encoder/expected_b1.json", "score"), encoder);
    Outputs.assertMatches(TritonHost.TESTDATA.resolve("chain_head/expected_b1.json"), r.line(1));
  }

  @Test
  void chainedResultEqualsTheClientRoundTripBitForBit() throws Exception {
    // The unchained path: the encoder returns features, the client sends them to the head.
    TritonHost.Result first = infer("chain_encoder", encoderRequest(null));
    assertEquals(0, first.exit(), first::toString);
    JsonNode features = Outputs.find(first.line(0), "features");
    ObjectNode head = TritonHost.JSON.createObjectNode();
    ObjectNode in = head.putArray("inputs").addObject();
    in.put("name", "features").put("datatype", "FP32");
    in.set("shape", features.path("shape"));
    in.set("data", features.path("data"));
    TritonHost.Result unchained = infer("chain_head", head);
    TritonHost.Result chained = infer("chain_encoder", encoderRequest("f-2", "score"),
        "chain_head", headByKey("f-2"));
    assertEquals(0, chained.exit(), chained::toString);
    assertEquals(Outputs.find(unchained.line(0), "logits"), Outputs.find(chained.line(1), "logits"));
  }

  @Test
  void keptOutputIsAlsoReturnedWhenAskedFor() throws Exception {
    TritonHost.Result r = infer("chain_encoder", encoderRequest("f-3"), "chain_head", headByKey("f-3"));
    assertEquals(0, r.exit(), r::toString);
    Outputs.assertMatches(TritonHost.TESTDATA.resolve("chain_encoder/expected_b1.json"), r.line(0));
    Outputs.assertMatches(TritonHost.TESTDATA.resolve("chain_head/expected_b1.json"), r.line(1));
  }

  @Test
  void anotherGroupCannotReadAKeptOutput() throws Exception {
    ObjectNode other = TritonHost.JSON.createObjectNode();
    other.putArray("inputs").add(Repos.request("two_input/request_b1.json").path("inputs").get(1));
    other.putObject("parameters").put("input_cache_key.image", "f-4");
    TritonHost.Result r = infer("chain_encoder", encoderRequest("f-4", "score"), "two_input", other);
    assertEquals(1, r.exit(), r::toString);
    String error = r.line(1).path("error").asText();
    assertTrue(error.contains("no cached tensor under key 'f-4'") && error.contains("'two_input'"), error);
  }

  @Test
  void rejectsAKeyForAnOutputTheModelLacks() throws Exception {
    ObjectNode bad = encoderRequest(null, "score");
    bad.putObject("parameters").put("output_cache_key.logits", "x");
    TritonHost.Result r = infer("chain_encoder", bad, "chain_encoder", encoderRequest(null, "score"));
    assertEquals(1, r.exit(), r::toString);
    String error = r.line(0).path("error").asText();
    assertTrue(error.contains("output_cache_key.logits") && error.contains("does not have"), error);
    assertTrue(r.line(1).path("error").isMissingNode(), () -> "the next request is served: " + r);
  }

  @Test
  void refusesCudaGraphsOnACpuInstanceAtLoad() throws Exception {
    String config = Repos.exampleConfig("conv_net", "", "")
        + "parameters { key: \"cuda_graph\" value: { string_value: \"on\" } }\n";
    Repos.withConfig(dir, "conv_net", "conv_net", config);
    TritonHost.Result r = TritonHost.infer(dir, "conv_net", TritonHost.requests("conv_net/request_b1.json"));
    assertEquals(1, r.exit(), r::toString);
    String error = r.line(0).path("error").asText();
    assertTrue(error.contains("cuda_graph") && error.contains("KIND_GPU"), error);
  }

  /** The expected file with only output {@code name} left in it. */
  private Path expectedOnly(String file, String name) throws Exception {
    ObjectNode expected = (ObjectNode) TritonHost.JSON.readTree(TritonHost.TESTDATA.resolve(file).toFile());
    var kept = TritonHost.JSON.createArrayNode();
    expected.path("outputs").forEach(o -> {
      if (o.path("name").asText().equals(name)) {
        kept.add(o);
      }
    });
    expected.set("outputs", kept);
    return Path.of(Repos.write(dir, "expected-" + name + ".json", expected));
  }
}
