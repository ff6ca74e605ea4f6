package dev.javaonnxruntime.config;

import java.util.ArrayList;
import java.util.List;

/**
 * Every config.pbtxt {@code parameters} entry this backend reads (docs/triton-guide.md, section
 * 2), parsed once at model load into one immutable value: a setting either works or the load is
 * refused with a message naming the parameter, the value found and what is allowed.
 *
 * @param cache {@code input_cache}, {@code input_cache.<input>}, {@code input_cache_group} and
 *     {@code input_cache_share_content}
 * @param graphs {@code cuda_graph} and {@code cuda_graph_batch_sizes}
 * @param ortCopiesInputs {@code input_staging}: "pinned" (ours, the default, false) or "ort" (ONNX
 *     Runtime copies host tensors, true)
 * @param cpuFallback {@code cpu_fallback}: a KIND_GPU instance without the CUDA provider runs on
 *     the CPU
 * @param intraOpThreads {@code intra_op_thread_count}: ONNX Runtime's intra-op threads per
 *     session, 0 letting it choose
 * @param faultEveryExecutes {@code test_fault_execute_every}: a test seam, every n-th Execute of
 *     an instance fails after its responses exist (0: never)
 * @param ignored the parameters set that this backend does not read (the load warns of them)
 */
public record ModelSettings(CacheSettings cache, GraphSettings graphs, boolean ortCopiesInputs,
    boolean cpuFallback, int intraOpThreads, long faultEveryExecutes, List<String> ignored) {
  static final String STAGING = "input_staging";
  static final String CPU_FALLBACK = "cpu_fallback";
  static final String THREADS = "intra_op_thread_count";
  static final String FAULT_EVERY = "test_fault_execute_every";
  /** The parameters this backend reads, besides {@code input_cache.<input>}. */
  public static final List<String> NAMES = names();

  /** Copies {@code ignored}. */
  public ModelSettings {
    ignored = List.copyOf(ignored);
  }

  /** Parses and checks the parameters of {@code config} (stage one: no model file needed). */
  public static ModelSettings parse(ModelConfig config) throws ConfigException {
    Parameters p = new Parameters(config);
    CacheSettings cache = CacheSettings.parse(config, p);
    GraphSettings graphs = GraphSettings.parse(config, p);
    boolean ortCopies = p.choice(STAGING, "pinned", List.of("pinned", "ort")).equals("ort");
    if (ortCopies && cache.enabled()) {
      // The cache stager binds cached device tensors; ORT's own copy only takes host tensors.
      throw p.error(STAGING, "is 'ort', but the input cache is on for inputs "
          + cache.cachedInputs(config) + " (" + CacheSettings.MODE + " '"
          + p.text(CacheSettings.MODE, CacheSettings.DEFAULT_MODE) + "'): 'ort' hands ONNX "
          + "Runtime host tensors, which a cached input is not; set input_cache to 'off' (and "
          + "every input_cache.<input>), or input_staging to 'pinned'");
    }
    if (ortCopies) {
      graphs = graphs.offByDefault("input_staging is 'ort', which hands ONNX Runtime each host "
          + "input to copy, and a graph reads fixed device buffers (set cuda_graph to 'on' to copy "
          + "into them through pinned staging instead)");
    }
    boolean fallback = p.flag(CPU_FALLBACK);
    long threads = p.count(THREADS);
    if (threads > Integer.MAX_VALUE) {
      throw p.error(THREADS, "must be an integer >= 0, got '" + p.text(THREADS, "") + "'");
    }
    long faultEvery = p.count(FAULT_EVERY);
    return new ModelSettings(cache, graphs, ortCopies, fallback, (int) threads, faultEvery,
        p.unknown(NAMES, CacheSettings.MODE_PREFIX));
  }

  private static List<String> names() {
    List<String> all = new ArrayList<>(CacheSettings.NAMES);
    all.addAll(List.of(STAGING, THREADS));
    all.addAll(GraphSettings.NAMES);
    all.addAll(List.of(CPU_FALLBACK, FAULT_EVERY));
    return List.copyOf(all);
  }
}
