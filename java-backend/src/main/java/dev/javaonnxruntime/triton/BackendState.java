package dev.javaonnxruntime.triton;

import dev.javaonnxruntime.cache.ContentHasher;
import dev.javaonnxruntime.cache.InputCache;
import dev.javaonnxruntime.config.BackendConfig;
import dev.javaonnxruntime.config.ConfigException;
import dev.javaonnxruntime.cuda.CaptureGate;
import dev.javaonnxruntime.cuda.CudaMemory;
import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.cuda.HostMemory;
import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.lifecycle.Closer;
import dev.javaonnxruntime.lifecycle.Faults;
import dev.javaonnxruntime.onnx.OrtRuntime;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_Backend;
import dev.javaonnxruntime.triton.metrics.Metrics;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.javacpp.Pointer;

/**
 * Shadows the {@code TRITONBACKEND_Backend}: what every model of this backend shares. The ONNX
 * Runtime environment, the device memory of each GPU and the input cache of each device (one per
 * GPU, one in host memory for KIND_CPU instances), because Triton cannot route a request to a
 * chosen instance, so only a cache shared by every model and instance on a device sees the hits.
 * Created in {@code TRITONBACKEND_Initialize}, closed in {@code TRITONBACKEND_Finalize} after every
 * model. Models and instances take what they need from it while they load (thread-safe: several
 * load at once); nothing on the execute path reaches it. It knows no model: a model joins a cache
 * group and keeps the step that leaves it.
 */
final class BackendState implements AutoCloseable {
  final BackendConfig config;
  final OrtRuntime ort;
  final String directory;
  final HostMemory hostMemory = new HostMemory();
  private final Map<Integer, DeviceMemory> devices = new ConcurrentHashMap<>();
  private final Map<Integer, InputCache> caches = new ConcurrentHashMap<>();
  private final Map<Integer, Stream> sharedStreams = new ConcurrentHashMap<>();
  private final Map<Integer, CaptureGate> gates = new ConcurrentHashMap<>();
  private final Map<String, Integer> groupUsers = new HashMap<>();
  final ContentHasher hasher;
  final Metrics metrics;

  /** JavaCPP's counts when the backend started, before it made anything: finalize's baseline. */
  private final long startBytes;
  private final long startCount;

  private BackendState(BackendConfig config, OrtRuntime ort, String directory, long startBytes,
      long startCount) {
    this.startBytes = startBytes;
    this.startCount = startCount;
    this.config = config;
    this.ort = ort;
    this.directory = directory;
    this.hasher = new ContentHasher(config.hashThreads(), config.hashSpinMicros() * 1000);
    if (config.testFailAllocations() > 0) {
      // A test seam (backend config test-fail-allocations=N): the next N allocations fail.
      hostMemory.failNextAllocations(config.testFailAllocations());
      Log.warn("java_onnxruntime: test-fail-allocations=" + config.testFailAllocations()
          + ": the next allocations of host-side device memory will fail");
    }
    if (Faults.armed() != null) {
      Log.warn("java_onnxruntime: test faults armed (" + Faults.PROPERTY + "=" + Faults.armed()
          + "): the steps named will fail on purpose");
    }
    this.metrics = new Metrics();
    Log.info("java_onnxruntime: JavaCPP counts " + Pointer.totalBytes() + " bytes in "
        + Pointer.totalCount() + " pointers after initialize");
  }

  static BackendState create(TRITONBACKEND_Backend backend) throws ConfigException {
    long startBytes = Pointer.totalBytes();
    long startCount = Pointer.totalCount();
    BackendConfig config = BackendConfig.parse(TritonCalls.backendConfigJson(backend));
    String directory = TritonCalls.backendDirectory(backend);
    OrtRuntime ort = OrtRuntime.create();
    Log.info("java_onnxruntime: ONNX Runtime loaded in " + ort.loadNanos() / 1_000_000 + " ms; "
        + "input cache budget " + config.inputCacheBytes() + " bytes per device "
        + "(--backend-config=java_onnxruntime,input-cache-bytes=N)");
    return new BackendState(config, ort, directory, startBytes, startCount);
  }

  /** The memory of GPU {@code id}, shared by every instance on it. */
  DeviceMemory deviceMemory(int id) {
    return devices.computeIfAbsent(id, CudaMemory::new);
  }

  /**
   * The stream of a new instance on {@code memory}'s device: its own, unless the backend config
   * {@code stream-per-instance=false} asks for one stream per device shared by all instances
   * (the way a single-stream script runs, kept for comparison).
   */
  Stream instanceStream(DeviceMemory memory) {
    if (config.streamPerInstance() || memory.deviceId() < 0) {
      return memory.newStream();
    }
    return new SharedStream(sharedStreams.computeIfAbsent(memory.deviceId(), d -> memory.newStream()));
  }

  /** A view of a device's shared stream: closing it leaves the stream to the backend. */
  private record SharedStream(Stream stream) implements Stream {
    @Override
    public long handle() {
      return stream.handle();
    }

    @Override
    public void synchronize() {
      stream.synchronize();
    }

    @Override
    public Stream target() {
      return stream;
    }

    @Override
    public void close() {}
  }

  /** The capture gate of GPU {@code id}, shared by every instance on it. */
  CaptureGate captureGate(int id) {
    return gates.computeIfAbsent(id, d -> new CaptureGate());
  }

  /** The input cache of a device (-1: host memory), created on first use. */
  InputCache cache(DeviceMemory memory) {
    return caches.computeIfAbsent(memory.deviceId(), d -> {
      Log.info("java_onnxruntime: input cache on " + (d < 0 ? "host memory" : "GPU " + d) + ", "
          + config.inputCacheBytes() + " bytes");
      return new InputCache(memory, config.inputCacheBytes());
    });
  }

  /**
   * A model of cache group {@code group} loaded: the group gains a user until the returned step
   * runs (at the model's finalize). When the last model of a group leaves, the group's named
   * entries go with it (freed once no in-flight batch reads them).
   */
  synchronized Runnable joinCacheGroup(String group, String model) {
    groupUsers.merge(group, 1, Integer::sum);
    return () -> leaveCacheGroup(group, model);
  }

  private synchronized void leaveCacheGroup(String group, String model) {
    if (groupUsers.merge(group, -1, Integer::sum) <= 0) {
      groupUsers.remove(group);
      int dropped = 0;
      long resident = 0;
      for (InputCache c : caches.values()) {
        dropped += c.removeGroup(group);
        resident += c.residentBytes();
      }
      Log.info("input cache: model '" + model + "' was the last of cache group '" + group + "': "
          + dropped + " named entries dropped; the caches now hold " + resident + " bytes");
    }
  }

  /**
   * Called after every model is unloaded: frees the caches, the shared streams, the metrics, the
   * hashing threads and ONNX Runtime, each even when an earlier close failed, then logs what
   * native memory is still counted. Nothing here calls the garbage collector: every JavaCPP
   * pointer the backend made has an owner that closed it, so the count is 0 (or a leak). Throws the
   * first failure, with the later ones suppressed.
   */
  @Override
  public void close() {
    Closer closer = new Closer("backend.close");
    caches.values().forEach(c -> closer.close("cache", c));
    caches.clear();
    sharedStreams.values().forEach(s -> closer.close("stream", s));
    sharedStreams.clear();
    closer.close("metrics", metrics);
    closer.close("hasher", hasher);
    closer.close("ort", ort);
    String held = "java_onnxruntime: native memory after finalize: " + hostMemory.liveBytes()
        + " bytes held by the backend in host memory, JavaCPP counts " + Pointer.totalBytes()
        + " bytes in " + Pointer.totalCount() + " pointers (" + startBytes + " bytes in "
        + startCount + " pointers before the backend started)";
    if (hostMemory.liveBytes() != 0 || Pointer.totalCount() > startCount) {
      Log.error(held + " (leak)");
    } else {
      Log.info(held);
    }
    if (!Faults.unfired().isEmpty()) {
      Log.warn("java_onnxruntime: test faults armed but never reached: " + Faults.unfired());
    }
    closer.finish();
  }
}
