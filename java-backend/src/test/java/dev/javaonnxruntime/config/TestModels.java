package dev.javaonnxruntime.config;

/** Model configurations for the settings tests: one FP32 input x[4], one output y[4]. */
final class TestModels {
  private TestModels() {}

  /** The config of model {@code name} with these parameters, e.g. {@link #param} joined by ",". */
  static ModelConfig config(String name, int maxBatch, String params) throws ConfigException {
    return ModelConfig.parse("{\"name\":\"" + name + "\",\"max_batch_size\":" + maxBatch
        + ",\"input\":[{\"name\":\"x\",\"data_type\":\"TYPE_FP32\",\"dims\":[\"4\"]}],\"output\":"
        + "[{\"name\":\"y\",\"data_type\":\"TYPE_FP32\",\"dims\":[\"4\"]}],\"parameters\":{"
        + params + "}}");
  }

  /** One parameter as the JSON Triton hands over. */
  static String param(String key, String value) {
    return "\"" + key + "\":{\"string_value\":\"" + value + "\"}";
  }
}
