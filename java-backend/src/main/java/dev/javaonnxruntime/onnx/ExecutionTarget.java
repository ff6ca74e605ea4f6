package dev.javaonnxruntime.onnx;

/**
 * Where a session computes: the CPU ({@link Cpu}), or the CUDA execution provider of one device
 * ({@link Cuda}) with a stream we own ({@code cudaStream_t} as an address, 0 for ORT's own) as
 * ORT's compute stream. Immutable values; {@link #gpu}, {@link #deviceId} and {@link #stream} read
 * either case without a switch.
 */
public sealed interface ExecutionTarget {
  /** Whether the session computes on a GPU. */
  boolean gpu();

  /** The CUDA device, or -1 on the CPU. */
  int deviceId();

  /** The compute stream's address, or 0 (the CPU, or ORT's own stream). */
  long stream();

  /** The CPU. */
  static ExecutionTarget cpu() {
    return Cpu.INSTANCE;
  }

  /** CUDA device {@code deviceId}, computing on {@code stream} (0: ORT's own). */
  static ExecutionTarget cuda(int deviceId, long stream) {
    return new Cuda(deviceId, stream);
  }

  /** The CPU execution provider. */
  record Cpu() implements ExecutionTarget {
    static final Cpu INSTANCE = new Cpu();

    @Override
    public boolean gpu() {
      return false;
    }

    @Override
    public int deviceId() {
      return -1;
    }

    @Override
    public long stream() {
      return 0;
    }
  }

  /**
   * The CUDA execution provider of one device.
   *
   * @param deviceId the CUDA device
   * @param stream the compute stream's address, or 0 for ORT's own
   */
  record Cuda(int deviceId, long stream) implements ExecutionTarget {
    @Override
    public boolean gpu() {
      return true;
    }
  }
}
