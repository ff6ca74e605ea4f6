package dev.javaonnxruntime.onnx;

import java.util.HashMap;
import java.util.Map;

/**
 * How a {@link ModelSession} is opened, beyond its file and target: ONNX Runtime's intra-op thread
 * count (0: its default), whether the CUDA provider may capture graphs, extra CUDA provider
 * options by their ONNX Runtime names ({@code cudnn_conv_algo_search}, ...), session config
 * entries ({@code session.disable_cpu_ep_fallback}, ...) and free-dimension overrides (a symbolic
 * dimension such as {@code batch} fixed to a value, so ONNX Runtime can fold the shape arithmetic
 * that depends on it). Immutable.
 */
public record SessionSettings(int intraOpThreads, boolean cudaGraph, Map<String, String> cudaOptions,
    Map<String, String> sessionConfig, Map<String, Long> freeDimensions) {
  public SessionSettings {
    if (intraOpThreads < 0) {
      throw new IllegalArgumentException("intra-op threads must be >= 0, got " + intraOpThreads);
    }
    cudaOptions = Map.copyOf(cudaOptions);
    sessionConfig = Map.copyOf(sessionConfig);
    freeDimensions = Map.copyOf(freeDimensions);
  }

  /** Plain settings: no graphs, no extra options. */
  public static SessionSettings threads(int intraOpThreads) {
    return new SessionSettings(intraOpThreads, false, Map.of(), Map.of(), Map.of());
  }

  /**
   * These settings for a session that runs one shape only, a CUDA graph's ({@link
   * ModelSession#graphSession}): its weights allocated at their size outside the arena ({@code
   * session.use_device_allocator_for_initializers}), and its arena grown by what each allocation
   * asks ({@code arena_extend_strategy kSameAsRequested}) rather than to the next power of two, a
   * growth that pays for a session whose shapes vary and wastes memory in one whose shape does
   * not. Neither changes a kernel. Entries set already are kept.
   */
  public SessionSettings forOneShape() {
    Map<String, String> cuda = new HashMap<>(cudaOptions);
    cuda.putIfAbsent("arena_extend_strategy", "kSameAsRequested");
    Map<String, String> config = new HashMap<>(sessionConfig);
    config.putIfAbsent("session.use_device_allocator_for_initializers", "1");
    return new SessionSettings(intraOpThreads, cudaGraph, cuda, config, freeDimensions);
  }

  public SessionSettings withCudaGraph(boolean on) {
    return new SessionSettings(intraOpThreads, on, cudaOptions, sessionConfig, freeDimensions);
  }

  public SessionSettings withCudaOptions(Map<String, String> options) {
    return new SessionSettings(intraOpThreads, cudaGraph, options, sessionConfig, freeDimensions);
  }

  public SessionSettings withSessionConfig(Map<String, String> config) {
    return new SessionSettings(intraOpThreads, cudaGraph, cudaOptions, config, freeDimensions);
  }

  public SessionSettings withFreeDimensions(Map<String, Long> dims) {
    return new SessionSettings(intraOpThreads, cudaGraph, cudaOptions, sessionConfig, dims);
  }
}
