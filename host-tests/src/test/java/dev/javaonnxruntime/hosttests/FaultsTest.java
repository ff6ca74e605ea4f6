package dev.javaonnxruntime.hosttests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults injected through the model, the backend's own seams and the host: each costs exactly the
 * requests it hits, the server goes on, the host sees no contract breach, and finalize leaves no
 * native memory behind.
 */
class FaultsTest {
  @TempDir Path dir;

  @Test
  void onnxRuntimeFailingAtRunTimeFailsOnlyThatRequest() throws Exception {
    List<String> args = TritonHost.requests("fails_at_runtime/request_good.json",
        "fails_at_runtime/request_bad.json", "fails_at_runtime/request_good.json");
    args.addAll(List.of("--concurrency", "3", "--repeat", "4"));
    TritonHost.Result r = TritonHost.infer(TritonHost.REPO, "fails_at_runtime", args);

    assertEquals(1, r.exit(), r::toString);
    Outputs.assertMatches(TritonHost.TESTDATA.resolve("fails_at_runtime/expected_good.json"), r.line(0));
    Outputs.assertMatches(TritonHost.TESTDATA.resolve("fails_at_runtime/expected_good.json"), r.line(2));
    String error = r.line(1).path("error").asText();
    assertTrue(error.contains("ONNX Runtime failed to run"), error);
    assertEquals("INTERNAL", r.line(1).path("code").asText(), r::toString);
  }

  @Test
  void exceptionInExecuteBecomesAnErrorForThatBatchAndTheServerGoesOn() throws Exception {
    String config = Repos.exampleConfig("text_encoder", "count: 2", "count: 1")
        + "parameters { key: \"test_fault_execute_every\" value: { string_value: \"2\" } }\n";
    Repos.withConfig(dir, "text_encoder", "text_encoder", config);
    List<String> args = TritonHost.requests("text_encoder/request_b1.json", "text_encoder/request_b2.json",
        "text_encoder/request_b3.json", "text_encoder/request_b1.json");
    TritonHost.Result r = TritonHost.infer(dir, "text_encoder", args);

    assertEquals(1, r.exit(), r::toString);
    Outputs.assertMatches(TritonHost.TESTDATA.resolve("text_encoder/expected_b1.json"), r.line(0));
    assertTrue(r.line(1).path("error").asText().contains("injected fault"), r::toString);
    assertEquals("INTERNAL", r.line(1).path("code").asText(), r::toString);
    Outputs.assertMatches(TritonHost.TESTDATA.resolve("text_encoder/expected_b3.json"), r.line(2));
    assertTrue(r.line(3).path("error").asText().contains("injected fault"), r::toString);
  }

  @Test
  void failedAllocationFailsOnlyTheRequestThatNeededIt() throws Exception {
    ObjectNode store = Repos.request("two_input/request_b1.json");
    store.putObject("parameters").put("input_cache_key.image", "img");
    ObjectNode reference = Repos.without(store, "image");
    String storeFile = Repos.write(dir, "store.json", store);
    List<String> args = TritonHost.requests(storeFile, storeFile,
        Repos.write(dir, "reference.json", reference));
    args.addAll(List.of("--backend-config", "java_onnxruntime,test-fail-allocations=1"));
    TritonHost.Result r = TritonHost.infer(TritonHost.REPO, "two_input", args);

    assertEquals(1, r.exit(), r::toString);
    String error = r.line(0).path("error").asText();
    assertTrue(error.contains("out of device memory"), error);
    // Triton has no RESOURCE_EXHAUSTED: UNAVAILABLE (HTTP 503) tells the client to retry later.
    assertEquals("UNAVAILABLE", r.line(0).path("code").asText(), r::toString);
    Path expected = TritonHost.TESTDATA.resolve("two_input/expected_b1.json");
    Outputs.assertMatches(expected, r.line(1));
    Outputs.assertMatches(expected, r.line(2));
  }

  @Test
  void finalizeLeavesNoNativeMemoryBehind() throws Exception {
    String config = Repos.exampleConfig("two_input", "", "")
        + "parameters { key: \"input_cache\" value: { string_value: \"content\" } }\n";
    Repos.withConfig(dir, "two_input", "two_input", config);
    List<String> args = TritonHost.requests("two_input/request_b1.json", "two_input/request_b2.json",
        "two_input/request_b3.json");
    args.addAll(List.of("--concurrency", "3", "--repeat", "5", "--input-chunks", "3"));
    args.addAll(TritonHost.jvmOptions(TritonHost.NO_GC));
    TritonHost.Result r = TritonHost.infer(dir, "two_input", args);

    assertEquals(0, r.exit(), r::toString);
    // JavaCPP's own count with no garbage collector at all: every pointer the backend made was
    // closed by its owner; one left to the GC would still be counted here.
    assertTrue(r.stderr().contains(TritonHost.NOTHING_LEFT), r::toString);
    TritonHost.assertSettledOnce(r, "two_input", 15);
  }
}
