package dev.javaonnxruntime.cuda;

/**
 * Allocation and copies on one device: the seam between the input cache and CUDA.
 *
 * <p>Why it exists: the cache and the execute path are written once against this interface;
 * {@link CudaMemory} serves GPU instances and {@link HostMemory} serves KIND_CPU instances and
 * tests. Copies are asynchronous on the given stream for a GPU and synchronous for host memory, so
 * a caller must not reuse a source buffer, nor read a destination, before its stream is
 * synchronised.
 *
 * <p>Ownership: {@link #allocate} hands the caller a block it must {@link #free} exactly once.
 * Implementations are thread-safe: several instance threads allocate and copy at once.
 */
public interface DeviceMemory {
  /** The CUDA device id, or -1 for host memory. */
  int deviceId();

  /**
   * The bytes free on the device now ({@code cudaMemGetInfo}: all of the device, every process
   * and thread included), or -1 where unknown (host memory). For logs only.
   */
  default long freeBytes() {
    return -1;
  }

  /**
   * Allocates {@code bytes} (at least 1) of device memory.
   *
   * @throws DeviceAllocationException when the device has no room (or a test injected a failure)
   */
  long allocate(long bytes) throws DeviceAllocationException;

  /** Frees a block returned by {@link #allocate}. */
  void free(long address);

  /** Copies {@code bytes} from host address {@code src} to device address {@code dst}. */
  void copyHostToDevice(long dst, long src, long bytes, Stream stream);

  /** Copies {@code bytes} between two device addresses of this device. */
  void copyDeviceToDevice(long dst, long src, long bytes, Stream stream);

  /** Copies {@code bytes} from device address {@code src} to host address {@code dst}. */
  void copyDeviceToHost(long dst, long src, long bytes, Stream stream);

  /**
   * Copies {@code bytes} from address {@code src} in the memory of another device, {@code
   * srcDevice}, to device address {@code dst} of this one (a client's CUDA shared memory region
   * on another GPU), on this device's {@code stream}.
   */
  void copyPeerToDevice(long dst, long src, int srcDevice, long bytes, Stream stream);

  /** Creates a stream on this device; the caller owns and closes it. */
  Stream newStream();

  /**
   * Marks the work enqueued so far on {@code stream}: other streams wait for it with {@link
   * Fence#awaitOn}. The caller owns and closes the fence.
   */
  Fence recordFence(Stream stream);

  /**
   * Creates a host staging buffer suited to this device (pinned for a GPU, so copies from it are
   * truly asynchronous); the caller owns and closes it.
   */
  StagingBuffer newStagingBuffer(long initialBytes);
}
