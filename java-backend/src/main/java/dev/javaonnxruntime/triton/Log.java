package dev.javaonnxruntime.triton;

import static dev.javaonnxruntime.triton.api.global.TritonApiLib.*;

import dev.javaonnxruntime.triton.api.TRITONSERVER_Error;

/**
 * Logs through Triton's log API, so lines go where the server's own logs go: the boundary's own
 * lines, and (once {@link #install} has run, at backend start) those of the steps behind it,
 * which log through {@link dev.javaonnxruntime.lifecycle.Log} without knowing Triton. Thread-safe.
 */
public final class Log {
  private Log() {}

  /** Makes Triton's log the sink of {@link dev.javaonnxruntime.lifecycle.Log}. */
  static void install() {
    dev.javaonnxruntime.lifecycle.Log.install((level, message) -> write(switch (level) {
      case ERROR -> TRITONSERVER_LOG_ERROR;
      case WARN -> TRITONSERVER_LOG_WARN;
      case INFO -> TRITONSERVER_LOG_INFO;
      case VERBOSE -> TRITONSERVER_LOG_VERBOSE;
    }, message));
  }

  /** At INFO level. */
  public static void info(String message) {
    write(TRITONSERVER_LOG_INFO, message);
  }

  /** At WARN level. */
  public static void warn(String message) {
    write(TRITONSERVER_LOG_WARN, message);
  }

  /** At ERROR level. */
  public static void error(String message) {
    write(TRITONSERVER_LOG_ERROR, message);
  }

  /** At VERBOSE level (shown with tritonserver --log-verbose). */
  public static void verbose(String message) {
    write(TRITONSERVER_LOG_VERBOSE, message);
  }

  /** Logs (and frees) the error of a call whose failure must not stop the caller. */
  public static void errorIfFailed(TRITONSERVER_Error err, String call) {
    String message = Errors.checkQuietly(err);
    if (message != null) {
      error(call + " failed: " + message);
    }
  }

  /** The same for a call made for model {@code model}: the message is built only on failure. */
  public static void errorIfFailed(TRITONSERVER_Error err, String model, String call) {
    if (err != null && !err.isNull()) {
      errorIfFailed(err, "model '" + model + "': " + call);
    }
  }

  private static void write(int level, String message) {
    TRITONSERVER_Error err = TRITONSERVER_LogMessage(level, "java_onnxruntime", 0, message);
    if (err != null && !err.isNull()) {
      TRITONSERVER_ErrorDelete(err);
    }
  }
}
