package dev.javaonnxruntime.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Settings reach ONNX Runtime: a free-dimension override fixes the model's symbolic batch. */
class SessionSettingsTest extends OrtTestSupport {
  @Test
  void aFreeDimensionOverrideFixesTheSymbolicBatch() {
    try (ModelSession plain = ModelSession.open(ort, MODEL, ExecutionTarget.cpu(), 1);
        ModelSession fixed = ModelSession.open(ort, MODEL, ExecutionTarget.cpu(),
            SessionSettings.threads(1).withFreeDimensions(Map.of("N", 2L))
                .withSessionConfig(Map.of("session.disable_cpu_ep_fallback", "0")))) {
      assertArrayEquals(new long[] {-1, 3, 224, 224}, plain.inputs().get(0).shape());
      assertArrayEquals(new long[] {2, 3, 224, 224}, fixed.inputs().get(0).shape());
      assertArrayEquals(new long[] {2, 4}, fixed.inputs().get(1).shape());
      assertFalse(fixed.cudaGraph(), "graphs are for CUDA targets only");
      assertNull(fixed.graphModeRefusal(), "a CPU session has no CUDA graph mode to refuse");
    }
  }

  @Test
  void aOneShapeSessionSizesItsMemoryToItsShapeAndKeepsWhatWasSet() {
    SessionSettings mine = SessionSettings.threads(1).withCudaGraph(true)
        .withCudaOptions(Map.of("arena_extend_strategy", "kNextPowerOfTwo"));
    SessionSettings one = mine.forOneShape();
    assertEquals("kNextPowerOfTwo", one.cudaOptions().get("arena_extend_strategy"), "set: kept");
    assertEquals("1", one.sessionConfig().get("session.use_device_allocator_for_initializers"));
    assertEquals("kSameAsRequested",
        SessionSettings.threads(1).forOneShape().cudaOptions().get("arena_extend_strategy"));
    assertTrue(one.cudaGraph() && one.intraOpThreads() == 1, "the rest as it was");
    // ONNX Runtime takes the session entry (on a CPU target the CUDA options are not used).
    try (ModelSession s = ModelSession.open(ort, MODEL, ExecutionTarget.cpu(),
        SessionSettings.threads(1).forOneShape())) {
      assertEquals(2, s.inputs().size());
    }
  }

  @Test
  void settingsAreImmutableAndThreadsNotNegative() {
    Map<String, String> options = new HashMap<>(Map.of("cudnn_conv_algo_search", "HEURISTIC"));
    SessionSettings s = SessionSettings.threads(0).withCudaOptions(options);
    options.put("cudnn_conv_algo_search", "EXHAUSTIVE");
    assertArrayEquals(new Object[] {"HEURISTIC"}, s.cudaOptions().values().toArray());
    assertThrows(UnsupportedOperationException.class, () -> s.cudaOptions().put("k", "v"));
    assertThrows(IllegalArgumentException.class, () -> SessionSettings.threads(-1));
  }
}
