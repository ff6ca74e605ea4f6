package dev.javaonnxruntime.onnx;

import static org.bytedeco.onnxruntime.global.onnxruntime.*;

import dev.javaonnxruntime.config.DataType;
import dev.javaonnxruntime.lifecycle.Closer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.onnxruntime.CUDAProviderOptions;
import org.bytedeco.onnxruntime.ConstTensorTypeAndShapeInfo;
import org.bytedeco.onnxruntime.IoBinding;
import org.bytedeco.onnxruntime.MemoryInfo;
import org.bytedeco.onnxruntime.OrtApi;
import org.bytedeco.onnxruntime.OrtIoBinding;
import org.bytedeco.onnxruntime.OrtMemoryInfo;
import org.bytedeco.onnxruntime.OrtRunOptions;
import org.bytedeco.onnxruntime.OrtSession;
import org.bytedeco.onnxruntime.OrtStatus;
import org.bytedeco.onnxruntime.OrtTensorTypeAndShapeInfo;
import org.bytedeco.onnxruntime.OrtValue;
import org.bytedeco.onnxruntime.RunOptions;
import org.bytedeco.onnxruntime.Session;
import org.bytedeco.onnxruntime.SessionOptions;
import org.bytedeco.onnxruntime.StringStringMap;
import org.bytedeco.onnxruntime.StringVector;
import org.bytedeco.onnxruntime.TypeInfo;
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
  private static final OrtApi API = GetApi();
  // C handles of the session's objects and the out-parameters of every run, made once.
  private final OrtSession sessionHandle;
  private final OrtIoBinding bindingHandle;
  private final OrtRunOptions runOptionsHandle;
  private final OrtMemoryInfo cpuHandle;
  private final OrtMemoryInfo deviceHandle;
  /** One tensor's dims (in: CreateTensor copies them; out: GetDimensions), reused by every run. */
  private final LongPointer dims = new LongPointer(MAX_RANK);
  private final PointerPointer<?> valueOut = new PointerPointer<>(1);
  private final PointerPointer<?> infoOut = new PointerPointer<>(1);
  private final PointerPointer<?> dataOut = new PointerPointer<>(1);
  private final SizeTPointer sizeOut = new SizeTPointer(1);
  private final IntPointer intOut = new IntPointer(1);
  private final List<OrtValue> created = new ArrayList<>();
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
      inputs = describe(true);
      outputs = describe(false);
      // Names live as long as the session: made here, outside every run's PointerScope.
      for (TensorInfo t : inputs) {
        names.put(t.name(), new BytePointer(t.name()));
      }
      for (TensorInfo t : outputs) {
        names.put(t.name(), new BytePointer(t.name()));
      }
    } catch (RuntimeException e) {
      Closer closer = close(new Closer("session.abandon"));
      if (closer.failure() != null) {
        e.addSuppressed(closer.failure());
      }
      throw e;
    }
    sessionHandle = session.asOrtSession();
    bindingHandle = binding.asOrtIoBinding();
    runOptionsHandle = runOptions.asOrtRunOptions();
    cpuHandle = cpuInfo.asOrtMemoryInfo();
    deviceHandle = deviceInfo != null ? deviceInfo.asOrtMemoryInfo() : null;
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
        try (PointerScope scope = new PointerScope()) { // the map and its strings: copied by Update
          StringStringMap map = new StringStringMap();
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
      try (BytePointer path = new BytePointer(file.toString())) {
        return new Opened(options, cuda, new Session(runtime.env(), path, options));
      }
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
   *
   * <p>Inputs, run and output shapes go through ONNX Runtime's C API with out-parameters made
   * once per session: the C++ wrappers return their results by value, which costs a native
   * allocation and a JavaCPP deallocator per tensor and shape on every request.
   */
  public void run(List<InputTensor> in, List<String> outputNames, OutputConsumer consumer)
      throws Exception {
    OrtApi api = API;
    try {
      OrtMemoryInfo outInfo = deviceInfo != null ? deviceHandle : cpuHandle;
      for (InputTensor t : in) {
        int rank = t.shape().length;
        if (rank > MAX_RANK) {
          throw new IllegalArgumentException("input '" + t.name() + "' has rank " + rank
              + ", more than " + MAX_RANK);
        }
        dims.put(t.shape(), 0, rank);
        runCheck(api.CreateTensorWithDataAsOrtValue(t.onDevice() ? deviceHandle : cpuHandle,
            FixedRun.view(t.address()), t.byteSize(), dims, rank, ElementTypes.toOnnx(t.dataType()),
            valueOut));
        OrtValue value = new OrtValue(valueOut.get(0));
        created.add(value);
        runCheck(api.BindInput(bindingHandle, name(t.name()), value));
      }
      for (String n : outputNames) {
        runCheck(api.BindOutputToDevice(bindingHandle, name(n), outInfo));
      }
      runStartNanos = System.nanoTime();
      runCheck(api.RunWithBinding(sessionHandle, runOptionsHandle, bindingHandle));
      runEndNanos = System.nanoTime();
      // The outputs through the C++ API: one vector per run.
      try (PointerScope scope = new PointerScope()) {
        ValueVector values = binding.GetOutputValues();
        List<OutputTensor> result = new ArrayList<>(outputNames.size());
        for (int i = 0; i < outputNames.size(); i++) {
          result.add(output(api, outputNames.get(i), values.get(i).asOrtValue()));
        }
        consumer.accept(result);
      }
    } finally {
      for (OrtValue v : created) {
        api.ReleaseValue(v);
      }
      created.clear();
      binding.ClearBoundInputs();
      binding.ClearBoundOutputs();
    }
  }

  /** One bound output: its type, shape, address and size, read through the reused out-params. */
  private OutputTensor output(OrtApi api, String name, OrtValue value) {
    runCheck(api.GetTensorTypeAndShape(value, infoOut));
    OrtTensorTypeAndShapeInfo info = new OrtTensorTypeAndShapeInfo(infoOut.get(0));
    long[] shape;
    int type;
    try {
      runCheck(api.GetTensorElementType(info, intOut));
      type = intOut.get();
      runCheck(api.GetDimensionsCount(info, sizeOut));
      int rank = (int) sizeOut.get();
      shape = new long[rank];
      if (rank > MAX_RANK) {
        try (LongPointer all = new LongPointer(rank)) {
          runCheck(api.GetDimensions(info, all, rank));
          all.get(shape);
        }
      } else if (rank > 0) {
        runCheck(api.GetDimensions(info, dims, rank));
        dims.get(shape, 0, rank);
      }
    } finally {
      api.ReleaseTensorTypeAndShapeInfo(info);
    }
    runCheck(api.GetTensorMutableData(value, dataOut));
    long address = dataOut.get(0).address();
    runCheck(api.GetTensorSizeInBytes(value, sizeOut));
    return new OutputTensor(name, ElementTypes.fromOnnx(type), address, sizeOut.get(), shape,
        deviceInfo != null);
  }

  private static void runCheck(OrtStatus status) {
    if (status != null && !status.isNull()) {
      throw new OrtFailure("ONNX Runtime failed to run: " + release(status), null);
    }
  }

  /** A failed status's message; the status is released. */
  private static String release(OrtStatus status) {
    String message = API.GetErrorMessage().call(status).getString();
    API.ReleaseStatus(status);
    return message;
  }

  private static void check(OrtStatus status, String what) {
    if (status != null && !status.isNull()) {
      throw new OrtFailure("ONNX Runtime refused " + what + ": " + release(status), null);
    }
  }

  private BytePointer name(String n) {
    BytePointer name = names.get(n);
    if (name == null) {
      throw new IllegalArgumentException("the model has no input or output '" + n + "'");
    }
    return name;
  }

  /**
   * The model's inputs or outputs: names, types and shapes. Every object ORT's C++ API returns
   * by value here (the name list, each name, type info and shape) is released with the scope.
   */
  private List<TensorInfo> describe(boolean isInput) {
    try (PointerScope scope = new PointerScope()) {
      StringVector list = isInput ? session.GetInputNames() : session.GetOutputNames();
      List<TensorInfo> out = new ArrayList<>();
      for (long i = 0; i < list.size(); i++) {
        TypeInfo type = isInput ? session.GetInputTypeInfo(i) : session.GetOutputTypeInfo(i);
        ConstTensorTypeAndShapeInfo info = type.GetTensorTypeAndShapeInfo();
        DataType dt = ElementTypes.fromOnnx(info.GetElementType());
        out.add(new TensorInfo(list.get(i).getString(), dt, info.GetShape().get()));
      }
      return List.copyOf(out);
    }
  }

  /**
   * Releases the binding, run options, session, provider and session options, memory infos,
   * names and out-parameters, each even when an earlier release failed; throws the first
   * failure, with the later ones suppressed.
   */
  @Override
  public void close() {
    close(new Closer("session.close")).finish();
  }

  private Closer close(Closer closer) {
    closer.close("binding", binding);
    closer.close("run-options", runOptions);
    closer.close("session", session);
    closer.close("cuda-options", cudaOptions);
    closer.close("options", options);
    closer.close("cpu-info", cpuInfo);
    closer.close("device-info", deviceInfo);
    names.values().forEach(n -> closer.close("name", n));
    closer.close("dims", dims);
    closer.close("value-out", valueOut);
    closer.close("info-out", infoOut);
    closer.close("data-out", dataOut);
    closer.close("size-out", sizeOut);
    closer.close("int-out", intOut);
    return closer;
  }
}
