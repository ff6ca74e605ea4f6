package dev.javaonnxruntime.triton;

import dev.javaonnxruntime.batch.GraphPlan;
import dev.javaonnxruntime.config.ConfigException;
import dev.javaonnxruntime.config.ModelConfig;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A model's CUDA-graph settings from config.pbtxt {@code parameters}: {@code cuda_graph} ("on" or
 * "off", the default) and {@code cuda_graph_batch_sizes} (a comma-separated list of the batch
 * sizes to capture, each 1..max_batch_size; default 1 and max_batch_size). A model without a batch
 * dimension captures its one shape and takes no batch sizes. Checked once at model load (stage
 * one); immutable.
 */
final class GraphSettings {
  final boolean enabled;
  final Set<Long> batchSizes;
  private final boolean batched;

  private GraphSettings(boolean enabled, Set<Long> batchSizes, boolean batched) {
    this.enabled = enabled;
    this.batchSizes = batchSizes;
    this.batched = batched;
  }

  static GraphSettings from(ModelConfig config) throws ConfigException {
    Map<String, String> p = config.parameters();
    String where = "model '" + config.name() + "': parameter ";
    String on = p.getOrDefault("cuda_graph", "off").trim();
    if (!on.equals("on") && !on.equals("off")) {
      throw new ConfigException(where + "'cuda_graph' is '" + on + "'; allowed values are [on, off]");
    }
    String sizes = p.get("cuda_graph_batch_sizes");
    Set<Long> set = new TreeSet<>();
    if (sizes != null && !config.batched()) {
      throw new ConfigException(where + "'cuda_graph_batch_sizes' is set, but the model has no "
          + "batch dimension (max_batch_size 0): it captures its one shape");
    }
    if (sizes == null && config.batched()) {
      set.add(1L);
      set.add((long) config.maxBatchSize());
    } else if (sizes != null) {
      for (String s : sizes.split(",")) {
        long n;
        try {
          n = Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
          n = -1;
        }
        if (n < 1 || n > config.maxBatchSize()) {
          throw new ConfigException(where + "'cuda_graph_batch_sizes' is '" + sizes + "': each "
              + "entry must be a batch size from 1 to max_batch_size " + config.maxBatchSize()
              + ", got '" + s.trim() + "'");
        }
        set.add(n);
      }
    }
    return new GraphSettings(on.equals("on"), Set.copyOf(set), config.batched());
  }

  /**
   * The JVM option that lets {@code cuda_graph: "on"} load although this release refuses it (its
   * replays can answer wrongly, see the guide): for reproducing and fixing that, never for serving.
   */
  static final String UNSAFE_PROPERTY = "java_onnxruntime.unsafe.cuda_graph";

  /** Whether {@link #UNSAFE_PROPERTY} is "true". */
  static boolean unsafeAllowed() {
    return Boolean.getBoolean(UNSAFE_PROPERTY);
  }

  /** A fresh plan for one instance. */
  GraphPlan newPlan() {
    return new GraphPlan(batchSizes, batched);
  }
}
