package dev.javaonnxruntime.hosttests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two instances serving four client threads at once, each instance on its own Triton thread, with
 * the dynamic batcher merging requests of batch 1, 2 and 3 into one Execute: every response
 * still carries exactly its own rows.
 */
class ConcurrencyTest {
  @TempDir Path dir;

  @Test
  void twoInstancesAndFourClientsKeepEveryResponseItsOwn() throws Exception {
    Path stats = dir.resolve("stats.json");
    List<String> args = TritonHost.requests("conv_net/request_b1.json", "conv_net/request_b2.json",
        "conv_net/request_b3.json", "conv_net/request_b1.json");
    args.addAll(List.of("--repeat", "12", "--concurrency", "4", "--stats", stats.toString()));
    TritonHost.Result r = TritonHost.infer(TritonHost.REPO, "conv_net", args);

    assertEquals(0, r.exit(), r::toString);
    Outputs.assertMatches(TritonHost.TESTDATA.resolve("conv_net/expected_b1.json"), r.line(0));
    Outputs.assertMatches(TritonHost.TESTDATA.resolve("conv_net/expected_b2.json"), r.line(1));
    Outputs.assertMatches(TritonHost.TESTDATA.resolve("conv_net/expected_b3.json"), r.line(2));
    Outputs.assertMatches(TritonHost.TESTDATA.resolve("conv_net/expected_b1.json"), r.line(3));

    JsonNode model = TritonHost.JSON.readTree(stats.toFile()).path("conv_net");
    for (JsonNode instance : model.path("instances")) {
      assertTrue(instance.path("execute_count").asInt() > 0, () -> "idle instance: " + model);
    }
    assertEquals(2, model.path("instances").size());
    boolean merged = false;
    var it = model.path("execute_requests_histogram").fieldNames();
    while (it.hasNext()) {
      merged |= Integer.parseInt(it.next()) > 1;
    }
    assertTrue(merged, () -> "no Execute held more than one request: " + model);
    assertEquals(48, model.path("reported").path("success_count").asInt(), model::toString);
  }

  @Test
  void inputSplitIntoSeveralBuffersIsServedLikeAContiguousOne() throws Exception {
    String config = Repos.exampleConfig("vit_patch", "", "")
        + "parameters { key: \"input_cache\" value: { string_value: \"content\" } }\n";
    Repos.withConfig(dir, "vit_patch", "vit_patch", config);
    Path metrics = dir.resolve("metrics.txt");
    List<String> args = TritonHost.requests("vit_patch/request_b1.json", "vit_patch/request_b2.json");
    args.addAll(List.of("--repeat", "2", "--input-chunks", "5", "--metrics", metrics.toString()));
    TritonHost.Result r = TritonHost.infer(dir, "vit_patch", args);

    assertEquals(0, r.exit(), r::toString);
    Outputs.assertMatches(TritonHost.TESTDATA.resolve("vit_patch/expected_b1.json"), r.line(0));
    Outputs.assertMatches(TritonHost.TESTDATA.resolve("vit_patch/expected_b2.json"), r.line(1));
    assertEquals(2.0, InputCacheFlowTest.metric(metrics, "java_onnxruntime_input_cache_hits_total", "vit_patch"));
  }
}
