package dev.javaonnxruntime.cuda;

/**
 * A CUDA runtime call returned an error other than an allocation failure.
 *
 * <p>Why it exists: every {@code cudaError_t} is checked, and the message names the call, the
 * device, the error code and the text of {@code cudaGetErrorString}, so the Triton error a client
 * sees says what went wrong. Unchecked, like other internal failures; the {@code triton} package
 * maps it to INTERNAL. Immutable.
 */
public final class CudaException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int errorCode;

  /** Creates the exception for {@code errorCode}, with a message already formatted. */
  public CudaException(String message, int errorCode) {
    super(message);
    this.errorCode = errorCode;
  }

  /** The {@code cudaError_t} value, or 0 where the failure did not come from CUDA itself. */
  public int errorCode() {
    return errorCode;
  }
}
