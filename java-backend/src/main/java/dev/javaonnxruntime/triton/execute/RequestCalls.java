package dev.javaonnxruntime.triton.execute;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The read step's Triton calls for one request made in C, in one JNI crossing ({@code
 * request_read.h}, whose comment gives the layout of what it writes): the input count, each
 * configured input by name with its properties and buffers, the parameters and the requested
 * outputs. JavaCPP generates the glue; the javacpp Maven plugin builds {@code libjniRequestCalls.so}
 * from this class, against {@code libtritonserver.so} as the generated binding of Triton's API.
 *
 * <p>Addresses are raw and unchecked (the request must be alive, the name arrays the caller's),
 * which is why this class is package-private and used only by {@link RequestReader}.
 * Thread-safe: reentrant.
 */
@Platform(include = {"triton_api.h", "request_read.h"}, link = "tritonserver")
final class RequestCalls {
  static {
    Loader.load();
  }

  /** {@link #read}'s result when a call failed: out[0] its error, out[1] which call. */
  static final long FAILED = -1;
  /** {@link #read}'s result when {@code out} was too small: call again with more. */
  static final long SHORT = -2;

  private RequestCalls() {}

  /** The Triton call that failed, by the number {@link #read} gives it in out[1]. */
  static String call(long which) {
    return switch ((int) which) {
      case 1 -> "TRITONBACKEND_RequestInputCount";
      case 2 -> "TRITONBACKEND_InputProperties";
      case 3 -> "TRITONBACKEND_InputBuffer";
      case 4 -> "TRITONBACKEND_RequestParameterCount";
      case 5 -> "TRITONBACKEND_RequestParameter";
      case 6 -> "TRITONBACKEND_RequestOutputCount";
      case 7 -> "TRITONBACKEND_RequestOutputName";
      default -> "a Triton request call (" + which + ")";
    };
  }

  /**
   * Reads {@code request} into {@code out} ({@code capacity} values), each string parameter's
   * first {@code textMax} bytes with it: how many values it wrote, or {@link #FAILED}, or {@link
   * #SHORT}.
   */
  @Name("jor_read_request")
  static native long read(
      @Cast("TRITONBACKEND_Request*") Pointer request,
      @Cast("const char* const*") PointerPointer<?> inputNames,
      int inputNameCount,
      @Cast("const char* const*") PointerPointer<?> outputNames,
      int outputNameCount,
      long textMax,
      @Cast("int64_t*") LongPointer out,
      long capacity);
}
