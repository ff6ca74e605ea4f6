package dev.javaonnxruntime.cuda;

import static org.bytedeco.cuda.global.cudart.cudaStreamCreateWithFlags;
import static org.bytedeco.cuda.global.cudart.cudaStreamDestroy;
import static org.bytedeco.cuda.global.cudart.cudaStreamNonBlocking;
import static org.bytedeco.cuda.global.cudart.cudaStreamSynchronize;

import org.bytedeco.cuda.cudart.CUstream_st;

/**
 * A non-blocking CUDA stream on one device: the stream of one GPU model instance.
 *
 * <p>Why non-blocking: it must not synchronise with the legacy default stream, which other
 * libraries in the process may use. Owns the {@code cudaStream_t}; the instance that creates it
 * closes it (after synchronising); closing twice is safe. Not for concurrent enqueueing.
 */
public final class CudaStream implements Stream {
  private final int deviceId;
  private final CUstream_st stream = new CUstream_st();
  private boolean closed;

  /** Creates a stream on {@code deviceId}. */
  public CudaStream(int deviceId) {
    this.deviceId = deviceId;
    CudaRuntime.setDevice(deviceId);
    CudaRuntime.check(
        cudaStreamCreateWithFlags(stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags", deviceId);
  }

  /** The device the stream belongs to. */
  public int deviceId() {
    return deviceId;
  }

  @Override
  public long handle() {
    return stream.address();
  }

  /** The preset's view of the handle, for cudart calls in this package. */
  CUstream_st cuStream() {
    if (closed) {
      throw new IllegalStateException("CUDA stream on device " + deviceId + " is closed");
    }
    return stream;
  }

  @Override
  public void synchronize() {
    CudaRuntime.setDevice(deviceId);
    CudaRuntime.check(cudaStreamSynchronize(cuStream()), "cudaStreamSynchronize", deviceId);
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    CudaRuntime.setDevice(deviceId);
    CudaRuntime.check(cudaStreamDestroy(stream), "cudaStreamDestroy", deviceId);
    stream.setNull();
  }
}
