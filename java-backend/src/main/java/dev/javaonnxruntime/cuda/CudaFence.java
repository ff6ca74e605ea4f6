package dev.javaonnxruntime.cuda;

import static org.bytedeco.cuda.global.cudart.cudaEventCreateWithFlags;
import static org.bytedeco.cuda.global.cudart.cudaEventDestroy;
import static org.bytedeco.cuda.global.cudart.cudaEventDisableTiming;
import static org.bytedeco.cuda.global.cudart.cudaEventRecord;
import static org.bytedeco.cuda.global.cudart.cudaStreamWaitEvent;

import java.util.concurrent.atomic.AtomicBoolean;
import org.bytedeco.cuda.cudart.CUevent_st;

/**
 * A {@link Fence} as a CUDA event (timing disabled) recorded on a stream. Owns the {@code
 * cudaEvent_t}; the cache entry that recorded it closes it when the entry is freed; closing twice
 * is safe. {@link #awaitOn} is thread-safe.
 */
final class CudaFence implements Fence {
  private final int deviceId;
  private final CUevent_st event = new CUevent_st();
  private final AtomicBoolean closed = new AtomicBoolean();

  CudaFence(int deviceId, CudaStream stream) {
    this.deviceId = deviceId;
    CudaRuntime.setDevice(deviceId);
    CudaRuntime.check(
        cudaEventCreateWithFlags(event, cudaEventDisableTiming), "cudaEventCreateWithFlags", deviceId);
    int error = cudaEventRecord(event, stream.cuStream());
    if (error != 0) {
      cudaEventDestroy(event);
      CudaRuntime.check(error, "cudaEventRecord", deviceId);
    }
  }

  @Override
  public void awaitOn(Stream stream) {
    if (closed.get()) {
      throw new IllegalStateException("fence on device " + deviceId + " is closed");
    }
    CudaRuntime.setDevice(deviceId);
    CudaRuntime.check(
        cudaStreamWaitEvent(CudaMemory.cudaStream(stream), event, 0), "cudaStreamWaitEvent", deviceId);
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      CudaRuntime.setDevice(deviceId);
      CudaRuntime.check(cudaEventDestroy(event), "cudaEventDestroy", deviceId);
    }
  }
}
