package dev.javaonnxruntime.triton;

import static dev.javaonnxruntime.triton.api.global.TritonApiLib.*;

import dev.javaonnxruntime.cache.CacheCapacityException;
import dev.javaonnxruntime.config.ConfigException;
import dev.javaonnxruntime.cuda.DeviceAllocationException;
import dev.javaonnxruntime.onnx.OrtFailure;
import dev.javaonnxruntime.triton.api.TRITONSERVER_Error;

/**
 * The one place where exceptions become Triton error codes, and Triton errors become exceptions:
 * configuration problems are INVALID_ARG, unsupported features UNSUPPORTED, a {@link
 * TritonException} keeps its own code, everything else is INTERNAL. The steps of the request path
 * use {@link #messageOf} and {@link #asTriton} for what they log and what they fail requests with.
 */
public final class Errors {
  private Errors() {}

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

  /** A new {@code TRITONSERVER_Error} for t; the receiver (Triton, or our own send) owns it. */
  public static TRITONSERVER_Error toTriton(Throwable t) {
    return TRITONSERVER_ErrorNew(codeOf(t), messageOf(t));
  }

  /** The address of a new error for t, as the entry points return it to the shim. */
  static long toAddress(Throwable t) {
    return toTriton(t).address();
  }

  /** The message of a failed call's error, freeing it; null when the call succeeded. */
  public static String checkQuietly(TRITONSERVER_Error err) {
    if (err == null || err.isNull()) {
      return null;
    }
    String message = TRITONSERVER_ErrorMessage(err).getString();
    TRITONSERVER_ErrorDelete(err);
    return message;
  }

  /** Throws if a Triton API call failed, after freeing its error (we own errors returned to us). */
  public static void check(TRITONSERVER_Error err, String call) {
    if (err == null || err.isNull()) {
      return;
    }
    int code = TRITONSERVER_ErrorCode(err);
    String message = TRITONSERVER_ErrorMessage(err).getString();
    TRITONSERVER_ErrorDelete(err);
    throw new TritonException(code, call + ": " + message);
  }
}
