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
 * @param enabled whether {@code cuda_graph} is "on" (set or by default)
 * @param asked whether config.pbtxt sets {@code cuda_graph} itself
 * @param batchSizes the batch sizes to capture (empty for a model without batch dimension)
 */
public record GraphSettings(boolean enabled, boolean asked, Set<Long> batchSizes) {
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
    return new GraphSettings(on, p.has(SWITCH), set);
  }
}
