package dev.javaonnxruntime.onnx;

import static org.bytedeco.onnxruntime.global.onnxruntime.*;

import dev.javaonnxruntime.config.DataType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.onnxruntime.CUDAProviderOptions;
import org.bytedeco.onnxruntime.ConstTensorTypeAndShapeInfo;
import org.bytedeco.onnxruntime.IoBinding;
import org.bytedeco.onnxruntime.LongVector;
import org.bytedeco.onnxruntime.MemoryInfo;
import org.bytedeco.onnxruntime.OrtStatus;
import org.bytedeco.onnxruntime.RunOptions;
import org.bytedeco.onnxruntime.Session;
import org.bytedeco.onnxruntime.SessionOptions;
import org.bytedeco.onnxruntime.StringStringMap;
import org.bytedeco.onnxruntime.StringVector;
import org.bytedeco.onnxruntime.TensorTypeAndShapeInfo;
import org.bytedeco.onnxruntime.TypeInfo;
import org.bytedeco.onnxruntime.Value;
import org.bytedeco.onnxruntime.ValueVector;

/**
 * One ONNX Runtime session of one model instance, with its IoBinding. Owned by the instance and
 * closed from instance finalize; used only from the instance's execute thread (Triton never calls
 * Execute twice at once for one instance), so it is not thread-safe and takes no locks.
 */
public final class ModelSession implements AutoCloseable {
  /** The highest rank of a tensor that {@link #run} binds. */
  public static final int MAX_RANK = 16;
  private final SessionOptions options;
  private final CUDAProviderOptions cudaOptions;
  private final Session session;
  private final IoBinding binding;
  private final RunOptions runOptions;
  private final MemoryInfo cpuInfo;
  private final MemoryInfo deviceInfo;
  private final ExecutionTarget target;
  private final boolean cudaGraph;
  private final String graphModeRefusal;
  private final List<TensorInfo> inputs;
  private final List<TensorInfo> outputs;
  private final Map<String, BytePointer> names = new HashMap<>();
  /** One input's dims for CreateTensor, which copies them: reused by every run. */
  private final LongPointer dims = new LongPointer(MAX_RANK);
  private long runStartNanos;
  private long runEndNanos;

  private ModelSession(OrtRuntime runtime, Path file, ExecutionTarget target,
      SessionSettings settings) {
    this.target = target;
    this.cudaGraph = settings.cudaGraph() && target.gpu();
    boolean userStream = target.gpu() && target.stream() != 0;
    // Every CUDA session runs in the provider's graph mode, captures or not. Outside it ONNX
    // Runtime releases a stream's pinned CPU buffers from a CUDA host callback holding a
    // reference to the pinned allocator; when a session closes, that callback can hold the
    // last one and destroy the allocator inside the callback, where cudaFreeHost fails (800)
    // and ORT terminates the process (seen on unload, bench/results/2026-12-01-h200-graphs).
    // In graph mode ORT synchronises the stream and frees them on the calling thread instead.
    boolean graphMode = target.gpu();
    Opened opened;
    String refusal = null;
    try {
      opened = openSession(runtime, file, target, settings, graphMode, userStream);
    } catch (OrtFailure e) {
      if (!graphMode || cudaGraph) {
        throw e;
      }
      // A model ORT cannot run in graph mode (control flow, nodes off the CUDA provider).
      refusal = e.getMessage();
      graphMode = false;
      opened = openSession(runtime, file, target, settings, false, userStream);
    }
    options = opened.options();
    cudaOptions = opened.cuda();
    session = opened.session();
    this.graphModeRefusal = refusal;
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
    inputs = describe(session.GetInputNames(), true);
    outputs = describe(session.GetOutputNames(), false);
    // Names live as long as the session: made here, outside every run's PointerScope.
    for (TensorInfo t : inputs) {
      names.put(t.name(), new BytePointer(t.name()));
    }
    for (TensorInfo t : outputs) {
      names.put(t.name(), new BytePointer(t.name()));
    }
  }

  private record Opened(SessionOptions options, CUDAProviderOptions cuda, Session session) {}

  private static Opened openSession(OrtRuntime runtime, Path file, ExecutionTarget target,
      SessionSettings settings, boolean graphMode, boolean userStream) {
    SessionOptions options = new SessionOptions();
    CUDAProviderOptions cuda = null;
    try {
      options.SetGraphOptimizationLevel(ORT_ENABLE_ALL);
      if (settings.intraOpThreads() > 0) {
        options.SetIntraOpNumThreads(settings.intraOpThreads());
      }
      settings.sessionConfig().forEach(options::AddConfigEntry);
      for (Map.Entry<String, Long> d : settings.freeDimensions().entrySet()) {
        check(GetApi().AddFreeDimensionOverrideByName(options.asOrtSessionOptions(), d.getKey(),
            d.getValue()), "free dimension '" + d.getKey() + "'");
      }
      if (target.gpu()) {
        cuda = new CUDAProviderOptions();
        try (StringStringMap map = new StringStringMap()) {
          map.put(new BytePointer("device_id"), new BytePointer(Integer.toString(target.deviceId())));
          if (graphMode) {
            map.put(new BytePointer("enable_cuda_graph"), new BytePointer("1"));
          }
          settings.cudaOptions().forEach((k, v) -> map.put(new BytePointer(k), new BytePointer(v)));
          cuda.Update(map);
        }
        if (userStream) {
          // ORT computes on the instance's own non-blocking stream, where all our copies run too.
          cuda.UpdateWithValue("user_compute_stream", FixedRun.view(target.stream()));
        }
        options.AppendExecutionProvider_CUDA_V2(cuda.asOrtCUDAProviderOptionsV2());
      }
      Session session = new Session(runtime.env(), new BytePointer(file.toString()), options);
      return new Opened(options, cuda, session);
    } catch (RuntimeException e) {
      if (cuda != null) {
        cuda.close();
      }
      options.close();
      throw e instanceof OrtFailure f ? f
          : new OrtFailure("ONNX Runtime cannot load " + file + ": " + e.getMessage(), e);
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
   * Why ONNX Runtime refused the CUDA provider's graph mode for this CUDA session that captures
   * no graphs (the session then runs without it, see the constructor), or null.
   */
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

  /**
   * System.nanoTime() just before and just after ONNX Runtime's Run in the latest {@link #run}:
   * what Triton's statistics call compute_infer (binding and reading outputs are not in it).
   */
  public long runStartNanos() {
    return runStartNanos;
  }

  public long runEndNanos() {
    return runEndNanos;
  }

  /** Receives the outputs of a run while they are still valid. */
  @FunctionalInterface
  public interface OutputConsumer {
    void accept(List<OutputTensor> outputs) throws Exception;
  }

  /**
   * Binds the inputs (views of caller-owned memory), runs, and hands the requested outputs to the
   * consumer. Every ORT object of the run is released when this returns, on every path.
   */
  public void run(List<InputTensor> in, List<String> outputNames, OutputConsumer consumer)
      throws Exception {
    try (PointerScope scope = new PointerScope()) {
      try {
        for (InputTensor t : in) {
          if (t.shape().length > MAX_RANK) {
            throw new IllegalArgumentException("input '" + t.name() + "' has rank " + t.shape().length
                + ", more than " + MAX_RANK);
          }
          Pointer data = FixedRun.view(t.address());
          dims.put(t.shape(), 0, t.shape().length);
          Value value = Value.CreateTensor(
              (t.onDevice() ? deviceInfo : cpuInfo).asOrtMemoryInfo(), data, t.byteSize(),
              dims, t.shape().length, ElementTypes.toOnnx(t.dataType()));
          binding.BindInput(name(t.name()), value);
        }
        MemoryInfo outInfo = deviceInfo != null ? deviceInfo : cpuInfo;
        for (String n : outputNames) {
          binding.BindOutput(name(n), outInfo.asOrtMemoryInfo());
        }
        runStartNanos = System.nanoTime();
        session.Run(runOptions, binding);
        runEndNanos = System.nanoTime();
      } catch (RuntimeException e) {
        throw new OrtFailure("ONNX Runtime failed to run: " + e.getMessage(), e);
      }
      ValueVector values = binding.GetOutputValues();
      List<OutputTensor> result = new ArrayList<>(outputNames.size());
      for (int i = 0; i < outputNames.size(); i++) {
        Value v = values.get(i);
        TensorTypeAndShapeInfo info = v.GetTensorTypeAndShapeInfo();
        LongVector dims = info.GetShape();
        result.add(new OutputTensor(outputNames.get(i), ElementTypes.fromOnnx(info.GetElementType()),
            v.GetTensorMutableRawData().address(), v.GetTensorSizeInBytes(), dims.get(),
            deviceInfo != null));
      }
      try {
        consumer.accept(result);
      } finally {
        binding.ClearBoundInputs();
        binding.ClearBoundOutputs();
      }
    }
  }

  private static void check(OrtStatus status, String what) {
    if (status != null && !status.isNull()) {
      String message = GetApi().GetErrorMessage().call(status).getString();
      GetApi().ReleaseStatus(status);
      throw new OrtFailure("ONNX Runtime refused " + what + ": " + message, null);
    }
  }

  private BytePointer name(String n) {
    BytePointer name = names.get(n);
    if (name == null) {
      throw new IllegalArgumentException("the model has no input or output '" + n + "'");
    }
    return name;
  }

  private List<TensorInfo> describe(StringVector list, boolean isInput) {
    List<TensorInfo> out = new ArrayList<>();
    for (long i = 0; i < list.size(); i++) {
      try (TypeInfo type = isInput ? session.GetInputTypeInfo(i) : session.GetOutputTypeInfo(i)) {
        ConstTensorTypeAndShapeInfo info = type.GetTensorTypeAndShapeInfo();
        DataType dt = ElementTypes.fromOnnx(info.GetElementType());
        out.add(new TensorInfo(list.get(i).getString(), dt, info.GetShape().get()));
      }
    }
    list.close();
    return List.copyOf(out);
  }

  @Override
  public void close() {
    binding.close();
    runOptions.close();
    session.close();
    if (cudaOptions != null) {
      cudaOptions.close();
    }
    options.close();
    cpuInfo.close();
    if (deviceInfo != null) {
      deviceInfo.close();
    }
    names.values().forEach(BytePointer::close);
    dims.close();
  }
}
