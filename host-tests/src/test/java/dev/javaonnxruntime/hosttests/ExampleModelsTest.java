package dev.javaonnxruntime.hosttests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every example model, served through the host and the real shim, gives the outputs numpy
 * computed independently; requests of batch 1, 2 and 3 go in together from three client threads,
 * so the dynamic batcher hands the backend mixed batches.
 */
class ExampleModelsTest {
  @ParameterizedTest
  @ValueSource(strings = {"conv_net", "text_encoder", "vit_patch", "two_input", "dtypes"})
  void servesReferenceOutputsForEveryBatchSize(String model) throws Exception {
    List<String> args = TritonHost.requests(model + "/request_b1.json", model + "/request_b2.json",
        model + "/request_b3.json");
    args.addAll(List.of("--concurrency", "3", "--repeat", "2"));
    TritonHost.Result result = TritonHost.infer(TritonHost.REPO, model, args);
    assertEquals(0, result.exit(), result::toString);
    assertEquals(3, result.lines().size(), result::toString);
    for (int i = 0; i < 3; i++) {
      Outputs.assertMatches(TritonHost.TESTDATA.resolve(model + "/expected_b" + (i + 1) + ".json"),
          result.line(i));
    }
  }

  /**
   * An input in 600 buffers (HTTP hands large inputs over in many) is read whole: more values
   * than the reader's first buffer holds, so it grows twice, and the answers stay right.
   */
  @Test
  void readsAnInputSplitIntoManyBuffers() throws Exception {
    List<String> args = TritonHost.requests("text_encoder/request_b1.json",
        "text_encoder/request_b2.json");
    args.addAll(List.of("--input-chunks", "600", "--repeat", "2"));
    TritonHost.Result result = TritonHost.infer(TritonHost.REPO, "text_encoder", args);
    assertEquals(0, result.exit(), result::toString);
    for (int i = 0; i < 2; i++) {
      Outputs.assertMatches(TritonHost.TESTDATA.resolve("text_encoder/expected_b" + (i + 1) + ".json"),
          result.line(i));
    }
  }
}
