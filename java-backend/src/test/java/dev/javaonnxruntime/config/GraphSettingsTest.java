package dev.javaonnxruntime.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.javaonnxruntime.batch.GraphPlan;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GraphSettingsTest {
  private static ModelConfig config(int maxBatch, String params) throws ConfigException {
    return TestModels.config("m", maxBatch, params);
  }

  private static GraphSettings graphs(ModelConfig config) throws ConfigException {
    return ModelSettings.parse(config).graphs();
  }

  private static String param(String key, String value) {
    return TestModels.param(key, value);
  }

  @Test
  void isOnByDefaultWithoutBeingAskedFor() throws Exception {
    GraphSettings s = graphs(config(8, ""));
    assertTrue(s.enabled());
    assertFalse(s.asked()); // so a KIND_CPU instance runs without graphs instead of refusing
    assertEquals(Set.of(1L, 8L), s.batchSizes());
  }

  @Test
  void isOffByDefaultForATensorOfVariableDimsButOnWhenAskedFor() throws Exception {
    String variable = "{\"name\":\"m\",\"max_batch_size\":8,\"input\":[{\"name\":\"x\","
        + "\"data_type\":\"TYPE_FP32\",\"dims\":[\"4\"]},{\"name\":\"ids\",\"data_type\":"
        + "\"TYPE_INT64\",\"dims\":[\"-1\"]}],\"output\":[{\"name\":\"y\",\"data_type\":"
        + "\"TYPE_FP32\",\"dims\":[\"4\"]}],\"parameters\":{%s}}";
    GraphSettings left = graphs(ModelConfig.parse(String.format(variable, "")));
    assertFalse(left.enabled(), "each sequence length would be a graph with its own weights");
    assertTrue(left.defaultOff().contains("'ids'"), left.defaultOff());
    GraphSettings on = graphs(ModelConfig.parse(String.format(variable,
        param("cuda_graph", "on"))));
    assertTrue(on.enabled());
    assertEquals(null, on.defaultOff());
    assertEquals(null, graphs(config(8, "")).defaultOff(), "fixed dims: on by default");
    String reshape = "{\"name\":\"m\",\"max_batch_size\":0,\"input\":[{\"name\":\"x\","
        + "\"data_type\":\"TYPE_FP32\",\"dims\":[\"4\"]}],\"output\":[{\"name\":\"y\","
        + "\"data_type\":\"TYPE_FP32\",\"dims\":[\"-1\",\"-1\"]}],\"parameters\":{}}";
    GraphSettings dataShaped = graphs(ModelConfig.parse(reshape));
    assertFalse(dataShaped.enabled(), "an output shape that may follow the data");
    assertTrue(dataShaped.defaultOff().contains("output 'y'"), dataShaped.defaultOff());
  }

  @Test
  void isOffByDefaultWhereOnnxRuntimeCopiesTheInputs() throws Exception {
    GraphSettings ort = graphs(config(8, param("input_staging", "ort") + ","
        + param("input_cache", "off")));
    assertFalse(ort.enabled(), "the stock way of copying, which a graph's buffers cannot take");
    assertTrue(ort.defaultOff().contains("input_staging"), ort.defaultOff());
    assertTrue(graphs(config(8, param("input_staging", "ort") + "," + param("input_cache", "off")
        + "," + param("cuda_graph", "on"))).enabled(), "asked for: on");
  }

  @Test
  void offAndOnAreAskedFor() throws Exception {
    GraphSettings off = graphs(config(8, param("cuda_graph", "off")));
    assertFalse(off.enabled());
    assertTrue(off.asked());
    GraphSettings on = graphs(config(8, param("cuda_graph", "on")));
    assertTrue(on.enabled());
    assertTrue(on.asked());
  }

  @Test
  void capturesBatchOneAndTheMaximumByDefault() throws Exception {
    GraphSettings s = graphs(config(8, param("cuda_graph", "on")));
    assertTrue(s.enabled());
    assertEquals(Set.of(1L, 8L), s.batchSizes());
  }

  @Test
  void capturesTheListedBatchSizes() throws Exception {
    GraphSettings s = graphs(config(8, param("cuda_graph", "on") + ","
        + param("cuda_graph_batch_sizes", "1, 2,4")));
    assertEquals(Set.of(1L, 2L, 4L), s.batchSizes());
  }

  @Test
  void rejectsAnUnknownSwitchValueNamingTheAllowedOnes() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> graphs(config(8, param("cuda_graph", "yes"))));
    assertTrue(e.getMessage().contains("'cuda_graph'") && e.getMessage().contains("[on, off]"), e.getMessage());
  }

  @Test
  void rejectsBatchSizesBeyondMaxBatchSize() {
    ConfigException e = assertThrows(ConfigException.class, () -> graphs(config(8,
        param("cuda_graph", "on") + "," + param("cuda_graph_batch_sizes", "1,16"))));
    assertTrue(e.getMessage().contains("'16'") && e.getMessage().contains("max_batch_size 8"), e.getMessage());
  }

  @Test
  void rejectsBatchSizesThatAreNotNumbers() {
    assertThrows(ConfigException.class, () -> graphs(config(8,
        param("cuda_graph", "on") + "," + param("cuda_graph_batch_sizes", "one"))));
  }

  @Test
  void rejectsBatchSizesForAModelWithoutBatchDimension() {
    ConfigException e = assertThrows(ConfigException.class, () -> graphs(config(0,
        param("cuda_graph", "on") + "," + param("cuda_graph_batch_sizes", "1"))));
    assertTrue(e.getMessage().contains("max_batch_size 0"), e.getMessage());
  }

  @Test
  void aModelWithoutBatchDimensionCapturesItsOneShape() throws Exception {
    GraphSettings s = graphs(config(0, param("cuda_graph", "on")));
    assertTrue(s.enabled());
    assertTrue(s.batchSizes().isEmpty());
    new GraphPlan(s.batchSizes(), false); // a plan for a model without batch dimension needs no sizes
  }
}
