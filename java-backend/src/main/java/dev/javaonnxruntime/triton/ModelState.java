package dev.javaonnxruntime.triton;

import dev.javaonnxruntime.config.CacheSettings;
import dev.javaonnxruntime.config.ConfigException;
import dev.javaonnxruntime.config.DataType;
import dev.javaonnxruntime.config.ModelConfig;
import dev.javaonnxruntime.config.ModelSettings;
import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.lifecycle.Closer;
import dev.javaonnxruntime.onnx.ExecutionTarget;
import dev.javaonnxruntime.onnx.ModelSession;
import dev.javaonnxruntime.onnx.TensorInfo;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_Model;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Shadows one {@code TRITONBACKEND_Model}: the validated configuration and its parameters, parsed
 * once into {@link ModelSettings}. Built in {@code TRITONBACKEND_ModelInitialize} (stage one of
 * validation, and auto-complete from the model file when Triton asks for it); immutable
 * afterwards, so instances read it from their own threads without locks. What changes while the
 * model serves (cache counters, hashing decisions, graphs) lives in each instance. It knows the
 * backend only through the cache-group membership it leaves when closed in {@code
 * TRITONBACKEND_ModelFinalize}, after its instances: it holds no native memory.
 */
public final class ModelState implements AutoCloseable {
  /** The model's name. */
  public final String name;
  final long version;
  /** Its validated configuration. */
  public final ModelConfig config;
  final Path modelFile;
  /** Every parameter this backend reads. */
  public final ModelSettings settings;
  /** {@code settings.cache()}, which the cache stager reads per input. */
  final CacheSettings cache;
  /** Leaves the model's cache group (its last model takes the group's named entries). */
  private final Runnable leaveCacheGroup;

  private ModelState(BackendState backend, String name, long version, ModelConfig config,
      Path modelFile) throws ConfigException {
    this.name = name;
    this.version = version;
    this.config = config;
    this.modelFile = modelFile;
    this.settings = ModelSettings.parse(config);
    this.cache = settings.cache();
    for (String key : settings.ignored()) {
      Log.warn("model '" + name + "': parameter '" + key + "' is not one of this backend's "
          + ModelSettings.NAMES + " (or input_cache.<input>): it is ignored");
    }
    this.leaveCacheGroup = backend.joinCacheGroup(cache.group(), name);
  }

  static ModelState create(BackendState backend, TRITONBACKEND_Model model) throws ConfigException {
    String name = TritonCalls.modelName(model);
    long version = TritonCalls.modelVersion(model);
    ModelConfig config = ModelConfig.parse(TritonCalls.modelConfigJson(model));
    Path file = Path.of(TritonCalls.modelRepository(model), Long.toString(version), config.modelFilename());
    if (!Files.isRegularFile(file)) {
      throw new ConfigException("model '" + name + "': model file " + file
          + " not found (set default_model_filename if it has another name)");
    }
    boolean incomplete = config.inputs().isEmpty() || config.outputs().isEmpty();
    // Triton's --disable-auto-complete-config reaches us through the API; our backend setting
    // auto-complete-config=false only through the backend config: either turns it off.
    if (incomplete && !(backend.config.autoComplete() && TritonCalls.autoCompleteConfig(model))) {
      throw new ConfigException("model '" + name + "': the configuration declares no "
          + (config.inputs().isEmpty() ? "inputs" : "outputs") + " and auto-complete is off "
          + "(backend setting auto-complete-config=false, or tritonserver "
          + "--disable-auto-complete-config): list every input and output in config.pbtxt");
    }
    if (incomplete) {
      String completed = autoComplete(backend, config, file);
      TritonCalls.setModelConfig(model, completed);
      config = ModelConfig.parse(TritonCalls.modelConfigJson(model));
      Log.info("model '" + name + "': completed the configuration from " + file.getFileName()
          + ": inputs " + config.inputs() + ", outputs " + config.outputs()
          + ", max_batch_size " + config.maxBatchSize());
    }
    return new ModelState(backend, name, version, config, file);
  }

  /** The config with inputs/outputs (and max_batch_size) filled in from the model's signature. */
  private static String autoComplete(BackendState backend, ModelConfig config, Path file) {
    try (ModelSession probe = ModelSession.open(backend.ort, file, ExecutionTarget.cpu(), 1)) {
      boolean batchable = config.maxBatchSize() > 0 || firstDimsDynamic(probe);
      int batch = config.maxBatchSize() > 0 ? config.maxBatchSize()
          : batchable ? backend.config.defaultMaxBatchSize() : 0;
      List<TensorConfig> in = config.inputs().isEmpty() ? fromSession(probe.inputs(), batch > 0)
          : config.inputs();
      List<TensorConfig> out = config.outputs().isEmpty() ? fromSession(probe.outputs(), batch > 0)
          : config.outputs();
      return config.completedJson(in, out, batch);
    }
  }

  private static boolean firstDimsDynamic(ModelSession s) {
    List<TensorInfo> all = new ArrayList<>(s.inputs());
    all.addAll(s.outputs());
    return !all.isEmpty() && all.stream().allMatch(t -> t.shape().length > 0 && t.shape()[0] == -1);
  }

  private static List<TensorConfig> fromSession(List<TensorInfo> tensors, boolean batched) {
    List<TensorConfig> list = new ArrayList<>();
    for (TensorInfo t : tensors) {
      long[] dims = batched ? Arrays.copyOfRange(t.shape(), 1, t.shape().length) : t.shape();
      list.add(new TensorConfig(t.name(), t.dataType(), dims, false));
    }
    return list;
  }

  /**
   * Model finalize: the model's cache group loses a user (the last one takes the group's named
   * entries with it). Throws what failed.
   */
  @Override
  public void close() {
    Closer closer = new Closer("model.close");
    closer.run("unload", leaveCacheGroup::run);
    closer.finish();
  }

  /**
   * Stage two: the configuration against the loaded session. Messages name the tensor, what the
   * model declares and what the config says.
   */
  void validateAgainst(ModelSession session) throws ConfigException {
    compare("input", config.inputs(), session.inputs());
    compare("output", config.outputs(), session.outputs());
  }

  private void compare(String kind, List<TensorConfig> configured, List<TensorInfo> actual)
      throws ConfigException {
    for (TensorConfig c : configured) {
      TensorInfo t = actual.stream().filter(a -> a.name().equals(c.name())).findFirst().orElse(null);
      String where = "model '" + name + "', " + kind + " '" + c.name() + "'";
      if (t == null) {
        throw new ConfigException(where + ": not found in the model, whose " + kind + "s are "
            + actual.stream().map(TensorInfo::name).toList());
      }
      if (t.dataType() != c.dataType()) {
        throw new ConfigException(where + ": data_type " + c.dataType().configName()
            + " in the configuration, but the model's is " + t.dataType().configName());
      }
      if (c.dataType() == DataType.BYTES) {
        throw new ConfigException(where + ": TYPE_STRING tensors are not supported yet");
      }
      checkDims(where, c, t.shape());
    }
    for (TensorInfo t : actual) {
      if (configured.stream().noneMatch(c -> c.name().equals(t.name())) && kind.equals("input")) {
        throw new ConfigException("model '" + name + "': the model has " + kind + " '" + t.name()
            + "' that the configuration does not declare");
      }
    }
  }

  private void checkDims(String where, TensorConfig c, long[] model) throws ConfigException {
    boolean batched = config.batched();
    int offset = batched ? 1 : 0;
    String expected = "the model's shape is " + Arrays.toString(model).replace(" ", "")
        + ", the configuration's dims are " + Arrays.toString(c.dims()).replace(" ", "")
        + (batched ? " with a batch dimension in front (max_batch_size " + config.maxBatchSize()
            + " > 0)" : " (max_batch_size 0: no batch dimension)");
    if (model.length != c.dims().length + offset) {
      throw new ConfigException(where + ": dims do not match: " + expected);
    }
    if (batched && model[0] != -1) {
      throw new ConfigException(where + ": the model's first dimension is " + model[0]
          + ", not variable, so it cannot batch; set max_batch_size to 0 and list the full "
          + "shape in dims (" + expected + ")");
    }
    for (int i = 0; i < c.dims().length; i++) {
      long m = model[i + offset];
      if (m != -1 && m != c.dims()[i]) {
        throw new ConfigException(where + ": dims do not match: " + expected);
      }
    }
  }
}
