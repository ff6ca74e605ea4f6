package dev.javaonnxruntime.onnx;

/**
 * Where a session computes: the CPU, or the CUDA execution provider of one device with a stream
 * we own ({@code cudaStream_t} as an address) as ORT's compute stream.
 */
public record ExecutionTarget(boolean gpu, int deviceId, long stream) {
  public static ExecutionTarget cpu() {
    return new ExecutionTarget(false, -1, 0);
  }

  public static ExecutionTarget cuda(int deviceId, long stream) {
    return new ExecutionTarget(true, deviceId, stream);
  }
}
