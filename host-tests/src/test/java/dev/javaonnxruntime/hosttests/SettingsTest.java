package dev.javaonnxruntime.hosttests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every documented setting acts or is refused at load with a message naming it (issue J, item 5),
 * through the real shim. This machine has no CUDA: a KIND_GPU instance (the host pretends to have
 * one GPU) cannot get the CUDA provider, which is the path the {@code cpu_fallback} parameter
 * decides.
 */
class SettingsTest {
  @TempDir Path dir;

  private static String parameter(String key, String value) {
    return "parameters { key: \"" + key + "\" value: { string_value: \"" + value + "\" } }\n";
  }

  private static String gpuConfig(String parameters) throws Exception {
    return Repos.exampleConfig("conv_net", "kind: KIND_CPU count: 2", "kind: KIND_GPU count: 1")
        + parameters;
  }

  private TritonHost.Result load(String config, String... extra) throws Exception {
    Repos.withConfig(dir, "conv_net", "conv_net", config);
    List<String> args = TritonHost.requests("conv_net/request_b1.json");
    args.addAll(List.of(extra));
    return TritonHost.infer(dir, "conv_net", args);
  }

  private static String error(TritonHost.Result r) {
    assertEquals(1, r.exit(), r::toString);
    return r.line(0).path("error").asText();
  }

  @Test
  void gpuInstanceWithoutTheCudaProviderFailsItsLoadNamingCauseAndParameter() throws Exception {
    String error = error(load(gpuConfig(""), "--gpus", "1"));
    assertTrue(error.contains("KIND_GPU") && error.contains("CUDA execution provider is unavailable")
        && error.contains("GPU 0") && error.contains("cpu_fallback"), error);
  }

  @Test
  void gpuInstanceRunsOnTheCpuWhenCpuFallbackIsTrue() throws Exception {
    TritonHost.Result r = load(gpuConfig(parameter("cpu_fallback", "true")), "--gpus", "1");
    assertEquals(0, r.exit(), r::toString);
    Outputs.assertMatches(TritonHost.TESTDATA.resolve("conv_net/expected_b1.json"), r.line(0));
    assertTrue(r.stderr().contains("runs on the CPU (cpu_fallback 'true')"), r::toString);
  }

  @Test
  void refusesACpuFallbackThatIsNotABoolean() throws Exception {
    String error = error(load(gpuConfig(parameter("cpu_fallback", "yes")), "--gpus", "1"));
    assertTrue(error.contains("cpu_fallback") && error.contains("'yes'"), error);
  }

  @Test
  void refusesOrtStagingWhileTheInputCacheIsOn() throws Exception {
    String error = error(load(Repos.exampleConfig("conv_net", "", "")
        + parameter("input_staging", "ort")));
    assertTrue(error.contains("input_staging") && error.contains("'ort'")
        && error.contains("input_cache 'auto'") && error.contains("[input]"), error);
  }

  @Test
  void servesOrtStagingWithTheInputCacheOff() throws Exception {
    TritonHost.Result r = load(Repos.exampleConfig("conv_net", "", "")
        + parameter("input_staging", "ort") + parameter("input_cache", "off"));
    assertEquals(0, r.exit(), r::toString);
    Outputs.assertMatches(TritonHost.TESTDATA.resolve("conv_net/expected_b1.json"), r.line(0));
  }

  @Test
  void backendSettingAutoCompleteFalseStopsCompletion() throws Exception {
    String error = error(load("name: \"conv_net\"\nbackend: \"java_onnxruntime\"\nmax_batch_size: 8\n",
        "--backend-config", "java_onnxruntime,auto-complete-config=false"));
    assertTrue(error.contains("auto-complete") && error.contains("declares no inputs"), error);
  }

  @Test
  void refusesABackendSettingThatIsNotABoolean() throws Exception {
    String error = error(load(Repos.exampleConfig("conv_net", "", ""),
        "--backend-config", "java_onnxruntime,stream-per-instance=yes"));
    assertTrue(error.contains("stream-per-instance") && error.contains("\"yes\""), error);
  }

  @Test
  void warnsAboutAParameterThisBackendDoesNotRead() throws Exception {
    TritonHost.Result r = load(Repos.exampleConfig("conv_net", "", "")
        + parameter("input_cahce", "off"));
    assertEquals(0, r.exit(), r::toString);
    assertTrue(r.stderr().contains("parameter 'input_cahce' is not one of this backend's"), r::toString);
  }
}
