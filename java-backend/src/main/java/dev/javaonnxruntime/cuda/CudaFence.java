package dev.javaonnxruntime.cuda;

import static org.bytedeco.cuda.global.cudart.cudaEventCreateWithFlags;
import static org.bytedeco.cuda.global.cudart.cudaEventDestroy;
import static org.bytedeco.cuda.global.cudart.cudaEventDisableTiming;
import static org.bytedeco.cuda.global.cudart.cudaEventQuery;
import static org.bytedeco.cuda.global.cudart.cudaEventRecord;
import static org.bytedeco.cuda.global.cudart.cudaErrorNotReady;
import static org.bytedeco.cuda.global.cudart.cudaStreamWaitEvent;
import static org.bytedeco.cuda.global.cudart.cudaSuccess;

import java.util.concurrent.atomic.AtomicBoolean;
import org.bytedeco.cuda.cudart.CUevent_st;

/**
 * A {@link Fence} as a CUDA event (timing disabled) recorded on a stream. Owns the {@code
 * cudaEvent_t}; the cache entry that recorded it closes it when the entry is freed; closing twice
 * is safe. {@link #awaitOn} is thread-safe.
 *
 * <p>Once a query has seen the event complete, {@link #awaitOn} is a field read: a cache hit on
 * an entry stored long ago (the common case) costs no CUDA call, where a {@code
 * cudaStreamWaitEvent} (and the {@code cudaSetDevice} before it) on every hit cost several
 * microseconds of the request's compute_input. Work that completed is visible to every later
 * stream operation on the device, so skipping the wait is exact.
 */
final class CudaFence implements Fence {
  private final int deviceId;
  private final CUevent_st event = new CUevent_st();
  private final AtomicBoolean closed = new AtomicBoolean();
  /** Set once a query has seen the event complete: it never becomes incomplete again. */
  private volatile boolean reached;

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
    if (reached) {
      return;
    }
    // cudaEventQuery takes an event of any device, whatever the thread's current one.
    int status = cudaEventQuery(event);
    if (status == cudaSuccess) {
      reached = true;
      return;
    }
    if (status != cudaErrorNotReady) {
      CudaRuntime.check(status, "cudaEventQuery", deviceId);
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
