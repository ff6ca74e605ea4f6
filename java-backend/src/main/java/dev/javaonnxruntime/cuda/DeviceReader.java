package dev.javaonnxruntime.cuda;

/**
 * Reads GPU memory into host memory for an instance that computes on the CPU and is handed an
 * input in GPU memory (a client's CUDA shared memory region).
 *
 * <p>Why it exists: such an instance's memory is {@link HostMemory}, whose copies are {@code
 * memcpy}s and whose stream is no CUDA stream; reading a device pointer that way crashes or reads
 * garbage. {@link #cuda()} copies through cudart; tests substitute a reader over host memory.
 *
 * <p>Ownership: the instance that creates a reader owns what it holds (streams) and closes it
 * from instance finalize; closing twice is safe. Not thread-safe: one instance thread uses it.
 */
public interface DeviceReader extends AutoCloseable {
  /**
   * Copies {@code bytes} from address {@code src} in the memory of CUDA device {@code device} to
   * host address {@code dst}; the bytes are on the host when it returns, as with every copy into
   * host memory.
   */
  void copyToHost(long dst, long src, int device, long bytes);

  /** Releases what the reader holds. */
  @Override
  void close();

  /** A reader through cudart, which touches CUDA only at its first copy. */
  static DeviceReader cuda() {
    return new CudaDeviceReader();
  }
}
