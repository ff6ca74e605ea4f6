package dev.javaonnxruntime.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The model configuration Triton hands over ({@code TRITONBACKEND_ModelConfig}, version 1), parsed
 * once and checked on its own (stage one). Immutable; shared by all instances of the model.
 *
 * <p>Triton writes int64 fields as JSON numbers, but protobuf's own JSON writes them as strings;
 * both are accepted. The raw JSON is kept so that auto-complete can return it with the inputs and
 * outputs filled in, every other field untouched.
 */
public final class ModelConfig {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> KINDS = Set.of("KIND_AUTO", "KIND_CPU", "KIND_GPU");

  private final ObjectNode raw;
  private final String name;
  private final int maxBatchSize;
  private final List<TensorConfig> inputs;
  private final List<TensorConfig> outputs;
  private final List<InstanceGroup> instanceGroups;
  private final Map<String, String> parameters;
  private final String defaultModelFilename;

  private ModelConfig(ObjectNode raw) throws ConfigException {
    this.raw = raw;
    this.name = raw.path("name").asText("");
    this.maxBatchSize = (int) integer(raw.path("max_batch_size"), "max_batch_size");
    if (maxBatchSize < 0) {
      throw new ConfigException(
          "model '" + name + "': max_batch_size must be >= 0, got " + maxBatchSize);
    }
    this.inputs = tensors(raw.path("input"), "input");
    this.outputs = tensors(raw.path("output"), "output");
    this.instanceGroups = groups(raw.path("instance_group"));
    this.parameters = parameters(raw.path("parameters"));
    this.defaultModelFilename = raw.path("default_model_filename").asText("");
  }

  /** Parses and checks the JSON of {@code TRITONBACKEND_ModelConfig}. */
  public static ModelConfig parse(String json) throws ConfigException {
    try {
      JsonNode node = JSON.readTree(json);
      if (!(node instanceof ObjectNode object)) {
        throw new ConfigException("model configuration is not a JSON object");
      }
      return new ModelConfig(object);
    } catch (JsonProcessingException e) {
      throw new ConfigException("model configuration is not valid JSON: " + e.getOriginalMessage(), e);
    }
  }

  public String name() {
    return name;
  }

  public int maxBatchSize() {
    return maxBatchSize;
  }

  /** Whether requests carry a leading batch dimension that config dims leave out. */
  public boolean batched() {
    return maxBatchSize > 0;
  }

  public List<TensorConfig> inputs() {
    return inputs;
  }

  public List<TensorConfig> outputs() {
    return outputs;
  }

  public List<InstanceGroup> instanceGroups() {
    return instanceGroups;
  }

  /** The {@code parameters} map with its {@code string_value}s. */
  public Map<String, String> parameters() {
    return parameters;
  }

  /** The model file inside the version directory; {@code model.onnx} unless configured. */
  public String modelFilename() {
    return defaultModelFilename.isEmpty() ? "model.onnx" : defaultModelFilename;
  }

  public TensorConfig input(String inputName) {
    for (TensorConfig t : inputs) {
      if (t.name().equals(inputName)) {
        return t;
      }
    }
    return null;
  }

  /**
   * The same configuration with inputs, outputs and max_batch_size replaced, as JSON for
   * {@code TRITONBACKEND_ModelSetConfig} (auto-complete).
   */
  public String completedJson(List<TensorConfig> in, List<TensorConfig> out, int batch) {
    ObjectNode copy = raw.deepCopy();
    copy.put("max_batch_size", batch);
    copy.set("input", tensorArray(in, true));
    copy.set("output", tensorArray(out, false));
    return copy.toString();
  }

  private static ArrayNode tensorArray(List<TensorConfig> tensors, boolean inputs) {
    ArrayNode array = JSON.createArrayNode();
    for (TensorConfig t : tensors) {
      ObjectNode o = array.addObject();
      o.put("name", t.name());
      o.put("data_type", t.dataType().configName());
      ArrayNode dims = o.putArray("dims");
      for (long d : t.dims()) {
        dims.add(d);
      }
      if (inputs) {
        o.put("optional", t.optional());
      }
    }
    return array;
  }

  private List<TensorConfig> tensors(JsonNode array, String field) throws ConfigException {
    List<TensorConfig> list = new ArrayList<>();
    Set<String> seen = new java.util.HashSet<>();
    for (JsonNode t : array) {
      String tensorName = t.path("name").asText("");
      String where = "model '" + name + "', " + field + " '" + tensorName + "'";
      if (tensorName.isEmpty()) {
        throw new ConfigException("model '" + name + "': every " + field + " needs a name");
      }
      if (!seen.add(tensorName)) {
        throw new ConfigException(where + ": name appears twice");
      }
      String type = t.path("data_type").asText("");
      DataType dataType = DataType.fromConfig(type);
      if (dataType == DataType.INVALID) {
        throw new ConfigException(where + ": data_type '" + type + "' is not a Triton data type");
      }
      JsonNode dimsNode = t.path("reshape").path("shape");
      if (!dimsNode.isMissingNode() && dimsNode.size() > 0) {
        throw new ConfigException(where + ": reshape is not supported by java_onnxruntime");
      }
      long[] dims = new long[t.path("dims").size()];
      for (int i = 0; i < dims.length; i++) {
        dims[i] = integer(t.path("dims").get(i), field + " '" + tensorName + "' dims");
        if (dims[i] < -1 || dims[i] == 0) {
          throw new ConfigException(
              where + ": dims must be positive or -1 (variable), got " + dims[i]);
        }
      }
      list.add(new TensorConfig(tensorName, dataType, dims, t.path("optional").asBoolean(false)));
    }
    return Collections.unmodifiableList(list);
  }

  private List<InstanceGroup> groups(JsonNode array) throws ConfigException {
    List<InstanceGroup> list = new ArrayList<>();
    for (JsonNode g : array) {
      String kind = g.path("kind").asText("KIND_AUTO");
      if (!KINDS.contains(kind)) {
        throw new ConfigException("model '" + name + "', instance_group '" + g.path("name").asText()
            + "': kind " + kind + " is not supported; allowed: KIND_AUTO, KIND_CPU, KIND_GPU");
      }
      List<Integer> gpus = new ArrayList<>();
      for (JsonNode id : g.path("gpus")) {
        gpus.add((int) integer(id, "instance_group gpus"));
      }
      list.add(new InstanceGroup(g.path("name").asText(""), kind,
          (int) integer(g.path("count"), "instance_group count"), List.copyOf(gpus)));
    }
    return Collections.unmodifiableList(list);
  }

  private static Map<String, String> parameters(JsonNode object) {
    Map<String, String> map = new LinkedHashMap<>();
    object.fields().forEachRemaining(e -> map.put(e.getKey(), e.getValue().path("string_value").asText("")));
    return Collections.unmodifiableMap(map);
  }

  /** An int64 field, written by Triton as a number and by protobuf's JSON as a string. */
  static long integer(JsonNode node, String field) throws ConfigException {
    if (node == null || node.isMissingNode() || node.isNull()) {
      return 0;
    }
    if (node.isIntegralNumber()) {
      return node.asLong();
    }
    if (node.isTextual()) {
      try {
        return Long.parseLong(node.asText());
      } catch (NumberFormatException e) {
        throw new ConfigException(field + ": expected an integer, got \"" + node.asText() + "\"", e);
      }
    }
    throw new ConfigException(field + ": expected an integer, got " + node);
  }
}
