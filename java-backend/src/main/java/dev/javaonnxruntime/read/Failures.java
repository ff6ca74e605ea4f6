package dev.javaonnxruntime.read;

import dev.javaonnxruntime.cache.CacheCapacityException;
import dev.javaonnxruntime.config.ConfigException;
import dev.javaonnxruntime.cuda.DeviceAllocationException;
import dev.javaonnxruntime.onnx.OrtFailure;

/**
 * The one place where exceptions get the Triton error code and the message a client sees:
 * configuration problems are INVALID_ARG, unsupported features UNSUPPORTED, running out of device
 * memory UNAVAILABLE, a {@link TritonException} keeps its own code, everything else is INTERNAL.
 * Pure Java: the boundary ({@code triton.Errors}) turns the result into Triton's error objects,
 * and the steps use {@link #messageOf} and {@link #asTriton} for what they log and what they fail
 * requests with. Thread-safe (stateless).
 */
public final class Failures {
  private Failures() {}

  /** The Triton error code {@code t} is reported with. */
  public static int codeOf(Throwable t) {
    if (t instanceof TritonException te) {
      return te.code();
    }
    if (t instanceof ConfigException || t instanceof IllegalArgumentException) {
      return TritonException.INVALID_ARG;
    }
    if (t instanceof UnsupportedOperationException) {
      return TritonException.UNSUPPORTED;
    }
    if (t instanceof DeviceAllocationException || t instanceof CacheCapacityException) {
      // Triton has no RESOURCE_EXHAUSTED; UNAVAILABLE (HTTP 503) says "try again later".
      return TritonException.UNAVAILABLE;
    }
    return TritonException.INTERNAL;
  }

  /**
   * The message a client sees: ours, or the class and message of an unexpected exception; then
   * those of the failures suppressed in it (a close chain's later failures).
   */
  public static String messageOf(Throwable t) {
    String message = ownMessage(t);
    for (Throwable more : t.getSuppressed()) {
      message += "; then: " + ownMessage(more);
    }
    return message;
  }

  private static String ownMessage(Throwable t) {
    if (t instanceof DeviceAllocationException || t instanceof CacheCapacityException) {
      return "out of device memory: " + t.getMessage();
    }
    if (t instanceof TritonException || t instanceof ConfigException || t instanceof OrtFailure
        || t instanceof IllegalArgumentException || t instanceof UnsupportedOperationException) {
      return String.valueOf(t.getMessage());
    }
    return t.toString();
  }

  /** {@code t} as the failure a request is answered with: itself, or wrapped with its code. */
  public static TritonException asTriton(Throwable t) {
    return t instanceof TritonException te ? te : new TritonException(codeOf(t), messageOf(t), t);
  }
}
