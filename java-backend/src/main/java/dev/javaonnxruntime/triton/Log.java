package dev.javaonnxruntime.triton;

import static dev.javaonnxruntime.triton.api.global.TritonApiLib.*;

import dev.javaonnxruntime.triton.api.TRITONSERVER_Error;

/** Logs through Triton's log API, so lines go where the server's own logs go. Thread-safe. */
final class Log {
  private Log() {}

  static void info(String message) {
    write(TRITONSERVER_LOG_INFO, message);
  }

  static void warn(String message) {
    write(TRITONSERVER_LOG_WARN, message);
  }

  static void error(String message) {
    write(TRITONSERVER_LOG_ERROR, message);
  }

  static void verbose(String message) {
    write(TRITONSERVER_LOG_VERBOSE, message);
  }

  /** Logs (and frees) the error of a call whose failure must not stop the caller. */
  static void errorIfFailed(TRITONSERVER_Error err, String call) {
    String message = Errors.checkQuietly(err);
    if (message != null) {
      error(call + " failed: " + message);
    }
  }

  /** The same for a call made for model {@code model}: the message is built only on failure. */
  static void errorIfFailed(TRITONSERVER_Error err, String model, String call) {
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
