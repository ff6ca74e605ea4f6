package dev.javaonnxruntime.config;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A model's CUDA-graph settings: {@code cuda_graph} ("on", the default, or "off") and {@code
 * cuda_graph_batch_sizes} (a comma-separated list of the batch sizes to capture, each
 * 1..max_batch_size; default 1 and max_batch_size). A model without a batch dimension captures
 * its one shape and takes no batch sizes. Graphs run on KIND_GPU instances only: by default a
 * KIND_CPU instance runs without them, while an explicit "on" there refuses the load.
 *
 * <p>Why the default is off for a model with a tensor of variable dims (besides the batch
 * dimension): each input shape is a graph of its own with its own copy of the weights (up to
 * {@code GraphPlan.MAX_GRAPHS}), which a user who asked for nothing should not get by surprise;
 * and an output whose shape may follow the data (a Reshape to a shape the request sends) cannot
 * be replayed by a graph, whose output buffers have the shape it was captured with.
 *
 * @param enabled whether graphs are captured: {@code cuda_graph} "on", set or by default
 * @param asked whether config.pbtxt sets {@code cuda_graph} itself
 * @param batchSizes the batch sizes to capture (empty for a model without batch dimension)
 * @param defaultOff why graphs are off though {@code cuda_graph} is left out, else null
 */
public record GraphSettings(boolean enabled, boolean asked, Set<Long> batchSizes,
    String defaultOff) {
  static final String SWITCH = "cuda_graph";
  static final String SIZES = "cuda_graph_batch_sizes";
  static final List<String> NAMES = List.of(SWITCH, SIZES);

  /** Copies {@code batchSizes}. */
  public GraphSettings {
    batchSizes = Set.copyOf(batchSizes);
  }

  static GraphSettings parse(ModelConfig config, Parameters p) throws ConfigException {
    boolean on = p.choice(SWITCH, "on", List.of("on", "off")).equals("on");
    String sizes = p.has(SIZES) ? p.text(SIZES, "") : null;
    Set<Long> set = new TreeSet<>();
    if (sizes != null && !config.batched()) {
      throw p.error(SIZES, "is set, but the model has no batch dimension (max_batch_size 0): it "
          + "captures its one shape");
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
          throw p.error(SIZES, "is '" + sizes + "': each entry must be a batch size from 1 to "
              + "max_batch_size " + config.maxBatchSize() + ", got '" + s.trim() + "'");
        }
        set.add(n);
      }
    }
    boolean asked = p.has(SWITCH);
    String off = null;
    String input = asked ? null : variable(config.inputs());
    String output = asked ? null : variable(config.outputs());
    if (input != null) {
      off = "input '" + input + "' has variable dims, so each of its shapes would capture a "
          + "graph with its own copy of the weights (set cuda_graph to 'on' to capture up to 8)";
    } else if (output != null) {
      off = "output '" + output + "' has variable dims, a shape that may follow the data, which "
          + "a graph's fixed output buffers cannot (set cuda_graph to 'on' if it does not)";
    }
    return new GraphSettings(on && off == null, asked, set, off);
  }

  /** These settings turned off for {@code why}, where config.pbtxt left {@code cuda_graph} out. */
  GraphSettings offByDefault(String why) {
    return asked || !enabled ? this : new GraphSettings(false, false, batchSizes, why);
  }

  /** The first tensor whose dims (besides the batch dimension) are not all fixed, or null. */
  private static String variable(List<TensorConfig> tensors) {
    for (TensorConfig t : tensors) {
      for (long d : t.dims()) {
        if (d < 0) {
          return t.name();
        }
      }
    }
    return null;
  }
}
