package dev.javaonnxruntime.onnx;

import static org.bytedeco.onnxruntime.global.onnxruntime.*;

import dev.javaonnxruntime.lifecycle.Closer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.onnxruntime.CUDAProviderOptions;
import org.bytedeco.onnxruntime.IoBinding;
import org.bytedeco.onnxruntime.MemoryInfo;
import org.bytedeco.onnxruntime.RunOptions;
import org.bytedeco.onnxruntime.Session;
import org.bytedeco.onnxruntime.SessionOptions;

/**
 * One ONNX Runtime session of one model instance, with its IoBinding. Owned by the instance and
 * closed from instance finalize; used only from the instance's execute thread (Triton never calls
 * Execute twice at once for one instance), so it is not thread-safe and takes no locks.
 */
public final class ModelSession implements AutoCloseable {
  public static final int MAX_RANK = 16; // the highest rank of a tensor that run binds
  /** Diagnostic: eager CUDA sessions without the provider's graph mode (guide, section 3). */
  private static final boolean NO_GRAPH_MODE =
      Boolean.getBoolean("java_onnxruntime.eager-no-graph-mode");
  private final SessionOptions options;
  private final CUDAProviderOptions cudaOptions;
  private final Session session;
  private final IoBinding binding;
  private final RunOptions runOptions;
  private final MemoryInfo cpuInfo;
  private final MemoryInfo deviceInfo;
  private final ExecutionTarget target;
  /** What opens another session of this model ({@link #graphSession}). */
  private final Supplier<ModelSession> sibling;
  private final boolean cudaGraph;
  private final String graphModeRefusal;
  private final List<TensorInfo> inputs;
  private final List<TensorInfo> outputs;
  private final Map<String, BytePointer> names = new HashMap<>();
  /** The machinery of every eager run, made once. */
  private final EagerRun eager;

  private ModelSession(OrtRuntime runtime, Path file, ExecutionTarget target,
      SessionSettings settings) {
    this.target = target;
    this.sibling = () -> new ModelSession(runtime, file, target, settings.forOneShape());
    this.cudaGraph = settings.cudaGraph() && target.gpu();
    boolean userStream = target.gpu() && target.stream() != 0;
    // Every CUDA session runs in the provider's graph mode, captures or not: outside it ONNX
    // Runtime frees a stream's pinned buffers from a CUDA host callback, which at a session's
    // close could destroy the allocator inside the callback and abort the process (guide,
    // known limits); in graph mode ORT synchronises and frees them on the calling thread.
    boolean graphMode = target.gpu() && (cudaGraph || !NO_GRAPH_MODE);
    SessionOpener.Opened opened;
    String refusal = null;
    try {
      opened = SessionOpener.open(runtime, file, target, settings, graphMode, userStream);
    } catch (OrtFailure e) {
      if (!graphMode || cudaGraph) {
        throw e;
      }
      // A model ORT cannot run in graph mode (control flow, nodes off the CUDA provider).
      refusal = e.getMessage();
      graphMode = false;
      opened = SessionOpener.open(runtime, file, target, settings, false, userStream);
    }
    options = opened.options();
    cudaOptions = opened.cuda();
    session = opened.session();
    this.graphModeRefusal = refusal;
    // Each object is closed by close(), which runs here too when a later one cannot be made.
    try {
      binding = new IoBinding(session);
      runOptions = new RunOptions();
      if (userStream) {
        // The instance synchronises its stream once per Execute, after its own output copies.
        runOptions.AddConfigEntry("disable_synchronize_execution_providers", "1");
      }
      if (graphMode) {
        // Eager runs in graph mode must not capture: only FixedRun's graph ids do.
        runOptions.AddConfigEntry("gpu_graph_id", "-1");
      }
      cpuInfo = MemoryInfo.CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
      deviceInfo = target.gpu()
          ? new MemoryInfo("Cuda", OrtDeviceAllocator, target.deviceId(), OrtMemTypeDefault) : null;
      inputs = SessionOpener.describe(session, true);
      outputs = SessionOpener.describe(session, false);
      // Names live as long as the session: made here, outside every run's PointerScope.
      for (TensorInfo t : inputs) {
        names.put(t.name(), new BytePointer(t.name()));
      }
      for (TensorInfo t : outputs) {
        names.put(t.name(), new BytePointer(t.name()));
      }
      eager = new EagerRun(session.asOrtSession(), runOptions.asOrtRunOptions(),
          target.gpu() ? binding : null, !target.gpu()
          || SessionOpener.readsInputsOnDevice(session, inputs.size(), target.deviceId()),
          cpuInfo.asOrtMemoryInfo(), deviceInfo != null ? deviceInfo.asOrtMemoryInfo() : null,
          this::name, inputs.size(), outputs.size());
    } catch (RuntimeException e) {
      Closer closer = close(new Closer("session.abandon"));
      if (closer.failure() != null) {
        e.addSuppressed(closer.failure());
      }
      throw e;
    }
  }

  /** Opens a session on the given target; a CUDA target whose provider cannot load throws. */
  public static ModelSession open(OrtRuntime runtime, Path file, ExecutionTarget target,
      int intraOpThreads) {
    return open(runtime, file, target, SessionSettings.threads(intraOpThreads));
  }

  /**
   * Opens a session with the given settings. A CUDA target whose stream is 0 lets ONNX Runtime
   * compute on a stream of its own (and synchronise it at the end of every run); otherwise ORT
   * computes on the target's stream. Graph settings on a CPU target are ignored.
   */
  public static ModelSession open(OrtRuntime runtime, Path file, ExecutionTarget target,
      SessionSettings settings) {
    return new ModelSession(runtime, file, target, settings);
  }

  /**
   * Opens a CUDA session whose provider may capture CUDA graphs ({@code enable_cuda_graph}).
   * ONNX Runtime refuses (this throws) a model it cannot capture: one with control flow, or with
   * compute nodes outside the CUDA provider.
   */
  public static ModelSession openForGraphs(OrtRuntime runtime, Path file, ExecutionTarget target,
      int intraOpThreads) {
    if (!target.gpu()) {
      throw new IllegalArgumentException("CUDA graphs need a CUDA target");
    }
    return new ModelSession(runtime, file, target, SessionSettings.threads(intraOpThreads)
        .withCudaGraph(true));
  }

  /**
   * Another session of this model on its target, for one CUDA graph (a graph captured in a
   * session that also ran other shapes replayed wrong values on the H200: guide, known limits),
   * its memory fit to that shape ({@link SessionSettings#forOneShape}). The caller owns it.
   */
  public ModelSession graphSession() {
    if (!cudaGraph) {
      throw new IllegalStateException("the session was not opened for CUDA graphs");
    }
    return sibling.get();
  }

  /** Why ORT refused this session the CUDA provider's graph mode (see the constructor), or null. */
  public String graphModeRefusal() {
    return graphModeRefusal;
  }

  /** Whether this session was opened for CUDA graphs. */
  public boolean cudaGraph() {
    return cudaGraph;
  }

  /**
   * Binds every input and output of the model once at fixed addresses (the caller's buffers: on
   * the device for a CUDA session, in host memory for a CPU one) for the CUDA graph
   * {@code graphId}; see {@link FixedRun}. A CPU session only reuses the binding (every run is
   * eager); a CUDA session must have been opened for graphs, because every CUDA session runs in
   * the provider's graph mode and would capture under that id.
   */
  public FixedRun fixedRun(List<InputTensor> in, List<OutputTensor> out, int graphId) {
    if (target.gpu() && !cudaGraph) {
      throw new IllegalStateException("the session was not opened for CUDA graphs");
    }
    return new FixedRun(session, deviceInfo != null ? deviceInfo : cpuInfo, this::name, in, out,
        graphId);
  }

  public ExecutionTarget target() {
    return target;
  }

  public List<TensorInfo> inputs() {
    return inputs;
  }

  public List<TensorInfo> outputs() {
    return outputs;
  }

  /** System.nanoTime() just before ONNX Runtime's Run in the latest {@link #run}. */
  public long runStartNanos() {
    return eager.startNanos();
  }

  public long runEndNanos() {
    return eager.endNanos();
  }

  /** Receives the outputs of a run while they are still valid. */
  @FunctionalInterface
  public interface OutputConsumer {
    void accept(List<OutputTensor> outputs) throws Exception;
  }

  /**
   * Binds the inputs (views of caller-owned memory), runs, and hands the requested outputs to the
   * consumer: a CUDA session's on the device, where the output cache and graphs need them.
   * Every ORT object of the run is released when this returns, on every path; see {@link
   * EagerRun}.
   */
  public void run(List<InputTensor> in, List<String> outputNames, OutputConsumer consumer)
      throws Exception {
    eager.run(in, outputNames, false, consumer);
  }

  /** {@link #run}, a CUDA session's outputs copied to host memory by ORT inside the run. */
  public void runToHost(List<InputTensor> in, List<String> outputNames, OutputConsumer consumer)
      throws Exception {
    eager.run(in, outputNames, true, consumer);
  }

  private BytePointer name(String n) {
    BytePointer name = names.get(n);
    if (name == null) {
      throw new IllegalArgumentException("the model has no input or output '" + n + "'");
    }
    return name;
  }

  /** Releases every native object, each even when one failed; throws the first failure. */
  @Override
  public void close() {
    close(new Closer("session.close")).finish();
  }

  private Closer close(Closer closer) {
    closer.close("eager", eager); // its kept inputs are bound in the binding: first
    closer.close("binding", binding);
    closer.close("run-options", runOptions);
    closer.close("session", session);
    closer.close("cuda-options", cudaOptions);
    closer.close("options", options);
    closer.close("cpu-info", cpuInfo);
    closer.close("device-info", deviceInfo);
    names.values().forEach(n -> closer.close("name", n));
    return closer;
  }
}
