package dev.javaonnxruntime.cuda;

import static org.bytedeco.cuda.global.cudart.cudaFreeHost;
import static org.bytedeco.cuda.global.cudart.cudaMallocHost;

import org.bytedeco.javacpp.Pointer;

/**
 * A {@link StagingBuffer} in page-locked host memory ({@code cudaMallocHost}), so that copies
 * from it to the GPU are truly asynchronous and run at full PCIe speed.
 *
 * <p>Owned by one GPU instance and closed with it (instance finalize); growing frees the old block
 * with {@code cudaFreeHost}, checked. Closing twice is safe. Not thread-safe.
 */
public final class PinnedBuffer implements StagingBuffer {
  private final int deviceId;
  private long address;
  private long capacity;
  private boolean closed;

  /** Allocates {@code initialBytes} of pinned memory for work on {@code deviceId}. */
  public PinnedBuffer(int deviceId, long initialBytes) {
    this.deviceId = deviceId;
    ensureCapacity(initialBytes);
  }

  @Override
  public long address() {
    return address;
  }

  @Override
  public long capacity() {
    return capacity;
  }

  @Override
  public long ensureCapacity(long bytes) {
    if (closed) {
      throw new IllegalStateException("pinned staging buffer on device " + deviceId + " is closed");
    }
    if (bytes <= capacity) {
      return address;
    }
    freeBlock();
    CudaRuntime.setDevice(deviceId);
    Pointer block = new Pointer();
    CudaRuntime.check(cudaMallocHost(block, bytes), "cudaMallocHost(" + bytes + ")", deviceId);
    address = block.address();
    capacity = bytes;
    return address;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      freeBlock();
    }
  }

  private void freeBlock() {
    if (address != 0) {
      long block = address;
      address = 0;
      capacity = 0;
      CudaRuntime.setDevice(deviceId);
      CudaRuntime.check(cudaFreeHost(NativeAddress.at(block)), "cudaFreeHost", deviceId);
    }
  }
}
