package dev.javaonnxruntime.cuda;

import static org.bytedeco.cuda.global.cudart.cudaGetDeviceCount;
import static org.bytedeco.cuda.global.cudart.cudaGetErrorName;
import static org.bytedeco.cuda.global.cudart.cudaGetErrorString;
import static org.bytedeco.cuda.global.cudart.cudaSetDevice;
import static org.bytedeco.cuda.global.cudart.cudaSuccess;

import org.bytedeco.javacpp.BytePointer;

/**
 * Where CUDA availability is decided and every {@code cudaError_t} becomes an exception.
 *
 * <p>Why it exists: each cudart call in this package is checked the same way, in one place (like
 * {@code RETURN_IF_ORT_ERROR}), and messages name the call, the device, the error name and the
 * {@code cudaGetErrorString} text. Availability follows Netty's {@code Epoll}: loading libcudart
 * may fail on a machine without the CUDA runtime, and that failure is kept as {@link
 * #unavailabilityCause()} instead of escaping from a static initialiser. Stateless apart from the
 * lazily computed availability; thread-safe.
 */
public final class CudaRuntime {
  private CudaRuntime() {}

  /** Holds the result of the first probe (class initialisation is thread-safe). */
  private static final class Probe {
    static final Throwable CAUSE;
    static final int DEVICES;

    static {
      Throwable cause = null;
      int devices = 0;
      try {
        int[] count = new int[1];
        int error = cudaGetDeviceCount(count);
        if (error == cudaSuccess) {
          devices = count[0];
        } else {
          cause = new CudaException(describe("cudaGetDeviceCount", -1, error), error);
        }
      } catch (LinkageError e) {
        cause = e;
      }
      CAUSE = cause;
      DEVICES = devices;
    }
  }

  /** The number of CUDA devices; 0 when libcudart cannot be loaded or reports none. */
  public static int deviceCount() {
    return Probe.DEVICES;
  }

  /** Why no device is usable, or null when at least one is. */
  public static Throwable unavailabilityCause() {
    return Probe.DEVICES > 0 ? null : Probe.CAUSE;
  }

  /** Throws {@link CudaException} unless {@code error} is {@code cudaSuccess}. */
  static void check(int error, String call, int device) {
    if (error != cudaSuccess) {
      throw new CudaException(describe(call, device, error), error);
    }
  }

  /** Makes {@code device} current for this thread (Triton never selects it for our threads). */
  static void setDevice(int device) {
    check(cudaSetDevice(device), "cudaSetDevice", device);
  }

  /** "call on device N failed: cudaErrorX (code): text". */
  static String describe(String call, int device, int error) {
    return call
        + " on device "
        + device
        + " failed: "
        + string(cudaGetErrorName(error))
        + " ("
        + error
        + "): "
        + string(cudaGetErrorString(error));
  }

  private static String string(BytePointer text) {
    return text == null || text.isNull() ? "unknown error" : text.getString();
  }
}
