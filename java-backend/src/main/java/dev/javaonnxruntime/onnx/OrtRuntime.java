package dev.javaonnxruntime.onnx;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.onnxruntime.Env;
import org.bytedeco.onnxruntime.global.onnxruntime;

/**
 * The process-wide ONNX Runtime environment. ORT wants one {@code Env} per process; the backend
 * state creates it in {@code TRITONBACKEND_Initialize} (loading the natives takes about half a
 * second) and closes it in {@code TRITONBACKEND_Finalize}, after every session. Thread-safe.
 */
public final class OrtRuntime implements AutoCloseable {
  private final Env env;
  private final long loadNanos;

  private OrtRuntime(Env env, long loadNanos) {
    this.env = env;
    this.loadNanos = loadNanos;
  }

  /** Loads the ORT natives (extracting them to JavaCPP's cache on first use) and creates the Env. */
  public static OrtRuntime create() {
    long start = System.nanoTime();
    Loader.load(onnxruntime.class);
    Env env = new Env(onnxruntime.ORT_LOGGING_LEVEL_WARNING, "java_onnxruntime");
    return new OrtRuntime(env, System.nanoTime() - start);
  }

  Env env() {
    return env;
  }

  /** How long loading the natives and creating the environment took. */
  public long loadNanos() {
    return loadNanos;
  }

  @Override
  public void close() {
    env.close();
  }
}
