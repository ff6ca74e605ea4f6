package dev.javaonnxruntime.triton;

import static dev.javaonnxruntime.read.Failures.codeOf;
import static dev.javaonnxruntime.read.Failures.messageOf;
import static dev.javaonnxruntime.triton.api.global.TritonApiLib.*;

import dev.javaonnxruntime.read.TritonException;
import dev.javaonnxruntime.triton.api.TRITONSERVER_Error;

/**
 * Where exceptions become Triton's errors ({@code TRITONSERVER_Error}, with the code and message
 * {@link dev.javaonnxruntime.read.Failures} gives them), and Triton's errors become {@link
 * TritonException}s.
 */
public final class Errors {
  private Errors() {}

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
