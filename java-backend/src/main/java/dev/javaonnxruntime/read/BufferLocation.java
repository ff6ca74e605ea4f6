package dev.javaonnxruntime.read;

/**
 * Where one buffer of a request input lies, as Triton reports it with the buffer ({@code
 * TRITONSERVER_MemoryType} and its memory type id, mapped at the boundary by {@code
 * triton.RequestReader}): pageable host memory (the request body, system shared memory), pinned
 * host memory (Triton's pinned pool), or one GPU's memory (a client's CUDA shared memory region).
 * Triton never moves an input for a backend: it ignores the preference passed to {@code
 * TRITONBACKEND_InputBuffer} and returns where the bytes already are, so this is what {@code
 * resolve.InputPlacement} decides from. Immutable values.
 */
public sealed interface BufferLocation {
  /** The id Triton gives host memory. */
  BufferLocation CPU = new Cpu(0);

  /**
   * Pageable host memory ({@code TRITONSERVER_MEMORY_CPU}).
   *
   * @param id the memory type id Triton named
   */
  record Cpu(long id) implements BufferLocation {}

  /**
   * Page-locked host memory ({@code TRITONSERVER_MEMORY_CPU_PINNED}).
   *
   * @param id the memory type id Triton named
   */
  record CpuPinned(long id) implements BufferLocation {}

  /**
   * The memory of CUDA device {@code device} ({@code TRITONSERVER_MEMORY_GPU}, id = device).
   *
   * @param device the CUDA device
   */
  record Gpu(int device) implements BufferLocation {}

  /** Whether the bytes are in host memory, pageable or pinned. */
  default boolean onHost() {
    return !(this instanceof Gpu);
  }

  /** "memory type GPU, id 1", as Triton names memory types. */
  default String describe() {
    if (this instanceof Gpu g) {
      return "memory type GPU, id " + g.device();
    }
    if (this instanceof CpuPinned p) {
      return "memory type CPU_PINNED, id " + p.id();
    }
    return "memory type CPU, id " + ((Cpu) this).id();
  }
}
