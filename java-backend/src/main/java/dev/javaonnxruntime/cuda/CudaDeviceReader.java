package dev.javaonnxruntime.cuda;

import static org.bytedeco.cuda.global.cudart.cudaMemcpyAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;

import java.util.HashMap;
import java.util.Map;

/**
 * A {@link DeviceReader} through cudart: {@code cudaMemcpyAsync} device-to-host on a non-blocking
 * stream of the source device (never the legacy default stream, which other libraries in the
 * process may use), then a wait for that stream.
 *
 * <p>Why one stream per source device, made at first use: a CPU instance has no CUDA stream of
 * its own, and a machine where no input ever arrives in GPU memory should not create one (or
 * load CUDA) at all. Owns those streams and destroys them in {@link #close}. Not thread-safe: one
 * instance thread uses it.
 */
final class CudaDeviceReader implements DeviceReader {
  private final Map<Integer, CudaStream> streams = new HashMap<>();

  @Override
  public void copyToHost(long dst, long src, int device, long bytes) {
    if (bytes == 0) {
      return;
    }
    CudaStream stream = streams.computeIfAbsent(device, CudaStream::new);
    CudaRuntime.setDevice(device);
    CudaRuntime.check(
        cudaMemcpyAsync(NativeAddress.at(dst), NativeAddress.at(src), bytes, cudaMemcpyDeviceToHost,
            stream.cuStream()),
        "cudaMemcpyAsync(DeviceToHost)",
        device);
    stream.synchronize();
  }

  @Override
  public void close() {
    streams.values().forEach(CudaStream::close);
    streams.clear();
  }
}
