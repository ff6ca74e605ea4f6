package dev.javaonnxruntime.cuda;

import static org.bytedeco.cuda.global.cudart.cudaErrorMemoryAllocation;
import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaGetLastError;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToDevice;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;
import static org.bytedeco.cuda.global.cudart.cudaMemGetInfo;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyPeerAsync;
import static org.bytedeco.cuda.global.cudart.cudaSuccess;

import dev.javaonnxruntime.lifecycle.Faults;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * {@link DeviceMemory} on one CUDA device through cudart: {@code cudaMalloc}, {@code cudaFree},
 * and {@code cudaMemcpyAsync} (or {@code cudaMemcpyPeerAsync} from another device) on the
 * caller's {@link CudaStream}.
 *
 * <p>Why it sets the device on every call: Triton never selects the device for the threads that
 * call a backend, so each call makes its device current first. Every {@code cudaError_t} is
 * checked; an out-of-memory becomes {@link DeviceAllocationException} (and the sticky last error
 * is cleared), anything else {@link CudaException}.
 *
 * <p>Ownership: holds no native state itself; blocks belong to their allocator (the input cache).
 * Thread-safe.
 */
public final class CudaMemory implements DeviceMemory {
  private final int deviceId;

  /** Memory on CUDA device {@code deviceId}; fails when the device cannot be selected. */
  public CudaMemory(int deviceId) {
    if (deviceId < 0) {
      throw new IllegalArgumentException("CUDA device id must be >= 0, got " + deviceId);
    }
    this.deviceId = deviceId;
    CudaRuntime.setDevice(deviceId);
  }

  @Override
  public int deviceId() {
    return deviceId;
  }

  @Override
  public long freeBytes() {
    CudaRuntime.setDevice(deviceId);
    try (SizeTPointer free = new SizeTPointer(1); SizeTPointer total = new SizeTPointer(1)) {
      return cudaMemGetInfo(free, total) == cudaSuccess ? free.get() : -1;
    }
  }

  @Override
  public long allocate(long bytes) throws DeviceAllocationException {
    if (bytes <= 0) {
      throw new IllegalArgumentException("allocation size must be > 0, got " + bytes);
    }
    CudaRuntime.setDevice(deviceId);
    Pointer block = new Pointer();
    int error = cudaMalloc(block, bytes);
    if (error == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      throw new DeviceAllocationException(
          CudaRuntime.describe("cudaMalloc(" + bytes + ")", deviceId, error), bytes);
    }
    CudaRuntime.check(error, "cudaMalloc(" + bytes + ")", deviceId);
    return block.address();
  }

  @Override
  public void free(long address) {
    CudaRuntime.setDevice(deviceId);
    CudaRuntime.check(cudaFree(NativeAddress.at(address)), "cudaFree", deviceId);
    Faults.at("memory.free"); // test seam: a free that fails once it has freed
  }

  @Override
  public void copyHostToDevice(long dst, long src, long bytes, Stream stream) {
    copy(dst, src, bytes, cudaMemcpyHostToDevice, stream, "cudaMemcpyAsync(HostToDevice)");
  }

  @Override
  public void copyDeviceToDevice(long dst, long src, long bytes, Stream stream) {
    copy(dst, src, bytes, cudaMemcpyDeviceToDevice, stream, "cudaMemcpyAsync(DeviceToDevice)");
  }

  @Override
  public void copyDeviceToHost(long dst, long src, long bytes, Stream stream) {
    copy(dst, src, bytes, cudaMemcpyDeviceToHost, stream, "cudaMemcpyAsync(DeviceToHost)");
  }

  @Override
  public void copyPeerToDevice(long dst, long src, int srcDevice, long bytes, Stream stream) {
    if (bytes == 0) {
      return;
    }
    CudaRuntime.setDevice(deviceId);
    CudaRuntime.check(
        cudaMemcpyPeerAsync(NativeAddress.at(dst), deviceId, NativeAddress.at(src), srcDevice, bytes,
            cudaStreamOf(stream).cuStream()),
        "cudaMemcpyPeerAsync(from device " + srcDevice + ")",
        deviceId);
  }

  @Override
  public Stream newStream() {
    return new CudaStream(deviceId);
  }

  @Override
  public Fence recordFence(Stream stream) {
    return new CudaFence(deviceId, cudaStreamOf(stream));
  }

  @Override
  public StagingBuffer newStagingBuffer(long initialBytes) {
    return new PinnedBuffer(deviceId, initialBytes);
  }

  private void copy(long dst, long src, long bytes, int kind, Stream stream, String call) {
    if (bytes == 0) {
      return;
    }
    CudaRuntime.setDevice(deviceId);
    CudaRuntime.check(
        cudaMemcpyAsync(
            NativeAddress.at(dst), NativeAddress.at(src), bytes, kind, cudaStreamOf(stream).cuStream()),
        call,
        deviceId);
  }

  private CudaStream cudaStreamOf(Stream stream) {
    if (!(stream.target() instanceof CudaStream cuda)) {
      throw new IllegalArgumentException(
          "device " + deviceId + " needs a CudaStream, got " + stream.getClass().getSimpleName());
    }
    if (cuda.deviceId() != deviceId) {
      throw new IllegalArgumentException(
          "stream of device " + cuda.deviceId() + " used with memory of device " + deviceId);
    }
    return cuda;
  }

  /** The cudart handle of a {@link CudaStream}; rejects host streams (never the default stream). */
  static CUstream_st cudaStream(Stream stream) {
    if (!(stream.target() instanceof CudaStream cuda)) {
      throw new IllegalArgumentException(
          "CUDA work needs a CudaStream, got " + stream.getClass().getSimpleName());
    }
    return cuda.cuStream();
  }
}
