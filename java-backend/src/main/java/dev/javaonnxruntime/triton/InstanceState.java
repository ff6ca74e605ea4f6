package dev.javaonnxruntime.triton;

import dev.javaonnxruntime.batch.GraphPlan;
import dev.javaonnxruntime.cache.InputCache;
import dev.javaonnxruntime.config.ConfigException;
import dev.javaonnxruntime.config.GraphSettings;
import dev.javaonnxruntime.cuda.CaptureGate;
import dev.javaonnxruntime.cuda.CudaRuntime;
import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.lifecycle.Closer;
import dev.javaonnxruntime.onnx.ExecutionTarget;
import dev.javaonnxruntime.onnx.ModelSession;
import dev.javaonnxruntime.read.Failures;
import dev.javaonnxruntime.resolve.CacheUse;
import dev.javaonnxruntime.resolve.InputStager;
import dev.javaonnxruntime.resolve.Leases;
import dev.javaonnxruntime.respond.CachedOutputs;
import dev.javaonnxruntime.respond.KeptOutputs;
import dev.javaonnxruntime.run.GraphPath;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_ModelInstance;
import dev.javaonnxruntime.triton.execute.Executor;
import dev.javaonnxruntime.triton.metrics.InstanceMetrics;

/**
 * Shadows one {@code TRITONBACKEND_ModelInstance}: its device, its own CUDA stream (non-blocking,
 * never the default stream), its ONNX Runtime session computing on that stream, its CUDA graphs
 * when the model asks for them, and the buffers its executions reuse. Created in {@code
 * ModelInstanceInitialize} on the model's load thread, used by {@code ModelInstanceExecute} on the
 * instance's own thread (never two at once), closed in {@code ModelInstanceFinalize}. What an
 * Execute changes is the instance's own: its cache counters and hashing decisions ({@link
 * CacheUse}) and its metrics ({@link InstanceMetrics}), so the execute path shares no state with
 * other instances but the device's cache (its own lock), atomic metric figures and, on a GPU, the
 * capture gate. A KIND_GPU instance that cannot open its session with the CUDA provider fails its
 * load, as the stock backend's does, unless the model's {@code cpu_fallback} parameter is {@code
 * "true"}.
 */
final class InstanceState implements AutoCloseable {
  private static final int KIND_GPU = 2;

  final String name;
  final ModelState model;
  private final ModelSession session;
  private final Stream stream;
  private final InputStager stager;
  private final GraphPath graphs;
  private final CaptureGate gate;
  private final Executor executor;

  private InstanceState(BackendState backend, String name, ModelState model, ModelSession session,
      DeviceMemory memory, Stream stream, CaptureGate gate, TRITONBACKEND_ModelInstance instance) {
    this.name = name;
    this.model = model;
    this.session = session;
    this.stream = stream;
    this.gate = gate;
    boolean gpu = session.target().gpu();
    InputStager newStager;
    KeptOutputs kept;
    InstanceMetrics metrics;
    // A model whose inputs are all uncached still reaches the cache: its outputs may be kept
    // there (output_cache_key.<output>) for the next model of its group.
    if (backend.config.inputCacheBytes() == 0
        || (!model.cache.enabled() && model.settings.ortCopiesInputs())) {
      newStager = InputStager.uncached(memory, stream, gpu, model.settings.ortCopiesInputs(),
          backend.hostMemory);
      kept = KeptOutputs.REFUSED;
      metrics = backend.metrics.forInstance(model.name, null, null);
    } else {
      InputCache cache = backend.cache(memory);
      CacheUse use = CacheUse.of(model.config, model.cache);
      Leases leases = new Leases(); // the entries an Execute pins, unpinned by the stager's finish
      newStager = InputStager.cached(memory, stream, gpu, cache, backend.hasher, model.name,
          model.config, model.cache, use, leases, backend.hostMemory);
      kept = new CachedOutputs(cache, model.cache.group(), memory, stream, use.stats(), leases);
      metrics = backend.metrics.forInstance(model.name, cache, use.stats());
    }
    GraphPath newGraphs = null;
    try {
      newGraphs = session.cudaGraph() ? new GraphPath(model.name, name, session, memory, gate,
          new GraphPlan(model.settings.graphs().batchSizes(), model.config.batched())) : null;
      // Every Execute on a GPU holds the device's gate shared: any model there may capture.
      this.executor = new Executor(model, instance, session, memory, stream, newStager, kept,
          newGraphs, gate, metrics);
    } catch (RuntimeException e) { // what was made so far is the caller's to lose: close it
      Closer closer = new Closer("instance.abandon");
      closer.close("graphs", newGraphs);
      closer.close("stager", newStager);
      suppress(e, closer);
      throw e;
    }
    this.stager = newStager;
    this.graphs = newGraphs;
  }

  static InstanceState create(BackendState backend, ModelState model,
      TRITONBACKEND_ModelInstance instance) throws ConfigException {
    String name = TritonCalls.instanceName(instance);
    int kind = TritonCalls.instanceKind(instance);
    int device = TritonCalls.instanceDeviceId(instance);
    GraphSettings graphs = model.settings.graphs();
    if (graphs.enabled() && graphs.asked() && kind != KIND_GPU) {
      throw new ConfigException("model '" + model.name + "': parameter 'cuda_graph' is 'on', but "
          + "instance '" + name + "' is not KIND_GPU: CUDA graphs run on GPU instances only (set "
          + "cuda_graph to 'off', or use instance_group kind KIND_GPU)");
    }
    int threads = model.settings.intraOpThreads();
    DeviceMemory memory = backend.hostMemory;
    Stream stream = null;
    ModelSession session = null;
    CaptureGate gate = null;
    if (kind == KIND_GPU) {
      try {
        if (CudaRuntime.deviceCount() <= device) {
          throw new IllegalStateException("no CUDA device " + device + " (devices: "
              + CudaRuntime.deviceCount() + ")");
        }
        memory = backend.deviceMemory(device);
        gate = backend.captureGate(device);
        gate.enter(); // loading allocates on the device: never during another's capture
        try {
          stream = backend.instanceStream(memory);
          session = openGpu(backend, model, name, ExecutionTarget.cuda(device, stream.handle()),
              threads);
          if (session.graphModeRefusal() != null) {
            Log.warn("instance '" + name + "' of model '" + model.name + "': ONNX Runtime cannot "
                + "run this model in the CUDA provider's graph mode (" + session.graphModeRefusal()
                + "); it runs without it, where unloading the model can abort the server "
                + "(docs/triton-guide.md, known limits)");
          }
        } finally {
          gate.exit();
        }
      } catch (RuntimeException | LinkageError e) {
        if (stream != null) {
          stream.close();
        }
        stream = null;
        gate = null;
        memory = backend.hostMemory;
        if (!model.settings.cpuFallback()) {
          throw new ConfigException("instance '" + name + "' of model '" + model.name + "' is "
              + "KIND_GPU, but the CUDA execution provider is unavailable on GPU " + device + " ("
              + (e.getMessage() != null ? e.getMessage() : e.toString()) + "); set parameter "
              + "'cpu_fallback' to 'true' to run such an instance on the CPU instead, or use "
              + "instance_group kind KIND_CPU", e);
        }
        Log.warn("instance '" + name + "' of model '" + model.name + "': the CUDA execution "
            + "provider is unavailable on GPU " + device + " (" + e.getMessage()
            + "); this instance runs on the CPU (cpu_fallback 'true')"
            + (graphs.enabled() ? ", without CUDA graphs" : ""));
      }
    }
    if (session == null) {
      stream = memory.newStream();
      session = ModelSession.open(backend.ort, model.modelFile, ExecutionTarget.cpu(), threads);
    }
    try {
      model.validateAgainst(session);
      InstanceState state = new InstanceState(backend, name, model, session, memory, stream, gate,
          instance);
      Log.info("instance '" + name + "' of model '" + model.name + "' runs on "
          + (session.target().gpu() ? "GPU " + device + " with its own stream" : "the CPU")
          + (session.cudaGraph() ? ", capturing CUDA graphs for batch sizes "
              + (model.config.batched() ? model.settings.graphs().batchSizes()
                  : "(its one shape)") : "")
          + (session.target().gpu() && graphs.defaultOff() != null ? ", without CUDA graphs: "
              + graphs.defaultOff() : ""));
      return state;
    } catch (ConfigException | RuntimeException e) {
      Closer closer = new Closer("instance.abandon");
      closer.close("session", session);
      closer.close("stream", stream);
      suppress(e, closer);
      throw e;
    }
  }

  /** Adds what a cleanup after {@code e} failed to {@code e}, so its message names it too. */
  private static void suppress(Exception e, Closer closer) {
    if (closer.failure() != null) {
      e.addSuppressed(closer.failure());
    }
  }

  /**
   * The CUDA session: opened for graphs when the model asks for them, falling back (one log line
   * saying why) to an eager session when ONNX Runtime cannot capture the model.
   */
  private static ModelSession openGpu(BackendState backend, ModelState model, String name,
      ExecutionTarget target, int threads) {
    GraphSettings graphs = model.settings.graphs();
    if (graphs.enabled()) {
      try {
        return ModelSession.openForGraphs(backend.ort, model.modelFile, target, threads);
      } catch (RuntimeException e) {
        String line = "cuda_graph: model '" + model.name + "' instance '" + name + "': every "
            + "batch runs eagerly: " + Failures.messageOf(e);
        if (graphs.asked()) {
          Log.warn(line);
        } else {
          Log.info(line + " (cuda_graph is on by default; set it to 'off' to skip this attempt)");
        }
      }
    }
    return ModelSession.open(backend.ort, model.modelFile, target, threads);
  }

  void execute(long requests, int count, long entered) {
    executor.execute(requests, count, entered);
  }

  /**
   * Instance finalize: synchronises the stream, then closes the executor, graphs, stager, session
   * and stream, each even when an earlier step failed (a stream that cannot synchronise is in a
   * sticky CUDA error, where no work of it runs any more). Throws the first failure, with the later
   * ones suppressed.
   */
  @Override
  public void close() {
    Closer closer = new Closer("instance.close");
    if (gate != null) {
      gate.enterAlone(); // the teardown synchronises the context: no other CUDA work beside it
    }
    try {
      closer.run("sync", stream::synchronize);
      closer.close("executor", executor);
      closer.close("graphs", graphs);
      closer.close("stager", stager);
      closer.close("session", session);
      closer.close("stream", stream);
    } finally {
      if (gate != null) {
        gate.leave();
      }
    }
    closer.finish();
  }
}
