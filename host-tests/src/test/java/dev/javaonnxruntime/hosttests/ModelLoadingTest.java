package dev.javaonnxruntime.hosttests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A configuration that disagrees with its model, or a backend that cannot start, fails cleanly. */
class ModelLoadingTest {
  @TempDir Path dir;

  private TritonHost.Result load(String config, String... extra) throws Exception {
    Repos.withConfig(dir, "conv_net", "conv_net", config);
    List<String> args = TritonHost.requests("conv_net/request_b1.json");
    args.addAll(List.of(extra));
    return TritonHost.infer(dir, "conv_net", args);
  }

  @Test
  void rejectsConfigWhoseInputDimsDifferFromTheModel() throws Exception {
    TritonHost.Result r = load(Repos.exampleConfig("conv_net", "dims: [ 3, 224, 224 ]", "dims: [ 3, 224, 225 ]"));
    assertEquals(1, r.exit(), r::toString);
    String error = r.line(0).path("error").asText();
    assertTrue(error.contains("input 'input'") && error.contains("dims"), error);
  }

  @Test
  void rejectsConfigWhoseDataTypeDiffersFromTheModel() throws Exception {
    TritonHost.Result r = load(Repos.exampleConfig("conv_net", "TYPE_FP32", "TYPE_FP64"));
    assertEquals(1, r.exit(), r::toString);
    String error = r.line(0).path("error").asText();
    assertTrue(error.contains("data_type"), error);
  }

  @Test
  void rejectsConfigNamingAnInputTheModelLacks() throws Exception {
    TritonHost.Result r = load(Repos.exampleConfig("conv_net", "name: \"input\"", "name: \"image\""));
    assertEquals(1, r.exit(), r::toString);
    String error = r.line(0).path("error").asText();
    assertTrue(error.contains("'image'") && error.contains("not found in the model"), error);
  }

  @Test
  void rejectsUnknownCacheMode() throws Exception {
    String config = Repos.exampleConfig("conv_net", "", "")
        + "parameters { key: \"input_cache\" value: { string_value: \"sometimes\" } }\n";
    TritonHost.Result r = load(config);
    assertEquals(1, r.exit(), r::toString);
    String error = r.line(0).path("error").asText();
    assertTrue(error.contains("input_cache") && error.contains("sometimes") && error.contains("auto"), error);
  }

  @Test
  void completesAConfigWithoutInputsOrOutputsFromTheModel() throws Exception {
    TritonHost.Result r = load("name: \"conv_net\"\nbackend: \"java_onnxruntime\"\nmax_batch_size: 8\n");
    assertEquals(0, r.exit(), r::toString);
    Outputs.assertMatches(TritonHost.TESTDATA.resolve("conv_net/expected_b1.json"), r.line(0));
  }

  @Test
  void badJavaHomeIsACleanBackendLoadError() throws Exception {
    TritonHost.Result r = load(Repos.exampleConfig("conv_net", "", ""),
        "--backend-config", "java_onnxruntime,java-home=/nonexistent/jdk");
    assertEquals(1, r.exit(), r::toString);
    String error = r.line(0).path("error").asText();
    assertTrue(error.contains("libjvm.so") && error.contains("/nonexistent/jdk"), error);
  }

  @Test
  void aBackendConfigValueSpelledLikeAKeyIsOnlyAValue() throws Exception {
    // {"cmdline":{"note":"java-home","x":"/nonexistent/jdk",...}}: only a key names the JDK.
    TritonHost.Result r = load(Repos.exampleConfig("conv_net", "", ""),
        "--backend-config", "java_onnxruntime,note=java-home",
        "--backend-config", "java_onnxruntime,x=/nonexistent/jdk");
    assertEquals(0, r.exit(), r::toString);
    Outputs.assertMatches(TritonHost.TESTDATA.resolve("conv_net/expected_b1.json"), r.line(0));
  }
}
