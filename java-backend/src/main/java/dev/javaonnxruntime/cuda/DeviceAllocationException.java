package dev.javaonnxruntime.cuda;

/**
 * A device allocation failed (out of memory, a capacity limit, or an injected test fault).
 *
 * <p>Why checked: the input cache must handle it, by evicting unpinned entries and retrying, and
 * then failing only the request that needed the room. Immutable.
 */
public final class DeviceAllocationException extends Exception {
  private static final long serialVersionUID = 1L;

  private final long requestedBytes;

  /** Creates the exception for a request of {@code requestedBytes}. */
  public DeviceAllocationException(String message, long requestedBytes) {
    super(message);
    this.requestedBytes = requestedBytes;
  }

  /** Creates the exception with the CUDA failure as cause. */
  public DeviceAllocationException(String message, long requestedBytes, Throwable cause) {
    super(message, cause);
    this.requestedBytes = requestedBytes;
  }

  /** The size of the allocation that failed. */
  public long requestedBytes() {
    return requestedBytes;
  }
}
