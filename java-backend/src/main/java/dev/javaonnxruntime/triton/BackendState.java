package dev.javaonnxruntime.triton;

import dev.javaonnxruntime.config.BackendConfig;
import dev.javaonnxruntime.config.ConfigException;
import dev.javaonnxruntime.cuda.CudaMemory;
import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.cuda.HostMemory;
import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.onnx.OrtRuntime;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_Backend;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Shadows the {@code TRITONBACKEND_Backend}: what every model of this backend shares. The ONNX
 * Runtime environment, the device memory of each GPU and the input cache of each device (one per
 * GPU, one in host memory for KIND_CPU instances), because Triton cannot route a request to a
 * chosen instance, so only a cache shared by every model and instance on a device sees the hits.
 * Created in {@code TRITONBACKEND_Initialize}, closed in {@code TRITONBACKEND_Finalize} after every
 * model; thread-safe (instances of different models use it at once).
 */
final class BackendState implements AutoCloseable {
  final BackendConfig config;
  final OrtRuntime ort;
  final String directory;
  final HostMemory hostMemory = new HostMemory();
  private final Map<Integer, DeviceMemory> devices = new ConcurrentHashMap<>();

  private BackendState(BackendConfig config, OrtRuntime ort, String directory) {
    this.config = config;
    this.ort = ort;
    this.directory = directory;
  }

  static BackendState create(TRITONBACKEND_Backend backend) throws ConfigException {
    BackendConfig config = BackendConfig.parse(TritonCalls.backendConfigJson(backend));
    String directory = TritonCalls.backendDirectory(backend);
    OrtRuntime ort = OrtRuntime.create();
    Log.info("java_onnxruntime: ONNX Runtime loaded in " + ort.loadNanos() / 1_000_000 + " ms; "
        + "input cache budget " + config.inputCacheBytes() + " bytes per device "
        + "(--backend-config=java_onnxruntime,input-cache-bytes=N)");
    return new BackendState(config, ort, directory);
  }

  /** The memory of GPU {@code id}, shared by every instance on it. */
  DeviceMemory deviceMemory(int id) {
    return devices.computeIfAbsent(id, CudaMemory::new);
  }

  /** The input stager of a new instance: it reaches its device's cache through this state. */
  InputStager newStager(ModelState model, DeviceMemory memory, Stream stream, boolean gpu) {
    return new InputStager(memory, stream, gpu);
  }

  /** A model unloaded: its named cache entries go with it. */
  void modelUnloaded(ModelState model) {}

  @Override
  public void close() {
    ort.close();
  }
}
