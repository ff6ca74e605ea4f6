package dev.javaonnxruntime.triton;

import dev.javaonnxruntime.read.TritonException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one backend registry: maps Triton's handles (addresses) to our state objects, because the
 * shim passes handles, not objects. The only static mutable state of the backend, built as a lazy
 * holder; every other object is reached from here and handed on through constructors.
 * Thread-safe: Triton calls entry points for different models and instances at once.
 */
final class Registry {
  private static final class Holder {
    static final Registry INSTANCE = new Registry();
  }

  private final Map<Long, BackendState> backends = new ConcurrentHashMap<>();
  private final Map<Long, ModelState> models = new ConcurrentHashMap<>();
  private final Map<Long, InstanceState> instances = new ConcurrentHashMap<>();

  static Registry get() {
    return Holder.INSTANCE;
  }

  void putBackend(long handle, BackendState state) {
    backends.put(handle, state);
  }

  BackendState removeBackend(long handle) {
    return backends.remove(handle);
  }

  /** The backend state; Triton loads one backend object per backend name. */
  BackendState anyBackend() {
    return backends.values().stream().findFirst().orElseThrow(
        () -> new TritonException(TritonException.INTERNAL, "java_onnxruntime is not initialized"));
  }

  void putModel(long handle, ModelState state) {
    models.put(handle, state);
  }

  ModelState model(long handle) {
    ModelState state = models.get(handle);
    if (state == null) {
      throw new TritonException(TritonException.INTERNAL, "unknown model handle " + handle);
    }
    return state;
  }

  ModelState removeModel(long handle) {
    return models.remove(handle);
  }

  void putInstance(long handle, InstanceState state) {
    instances.put(handle, state);
  }

  InstanceState instance(long handle) {
    return instances.get(handle);
  }

  InstanceState removeInstance(long handle) {
    return instances.remove(handle);
  }
}
