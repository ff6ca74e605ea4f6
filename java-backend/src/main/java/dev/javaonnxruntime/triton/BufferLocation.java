package dev.javaonnxruntime.triton;

import static dev.javaonnxruntime.triton.api.global.TritonApiLib.TRITONSERVER_MEMORY_CPU;
import static dev.javaonnxruntime.triton.api.global.TritonApiLib.TRITONSERVER_MEMORY_CPU_PINNED;
import static dev.javaonnxruntime.triton.api.global.TritonApiLib.TRITONSERVER_MEMORY_GPU;

/**
 * Where one buffer of a request input lies, as Triton reports it with the buffer ({@code
 * TRITONSERVER_MemoryType} and its memory type id): pageable host memory (the request body,
 * system shared memory), pinned host memory (Triton's pinned pool), or one GPU's memory (a
 * client's CUDA shared memory region). Triton never moves an input for a backend: it ignores the
 * preference passed to {@code TRITONBACKEND_InputBuffer} and returns where the bytes already are,
 * so this is what {@link InputPlacement} decides from. Immutable values.
 */
sealed interface BufferLocation {
  /** The id Triton gives host memory. */
  BufferLocation CPU = new Cpu(0);

  /** Pageable host memory ({@code TRITONSERVER_MEMORY_CPU}). */
  record Cpu(long id) implements BufferLocation {}

  /** Page-locked host memory ({@code TRITONSERVER_MEMORY_CPU_PINNED}). */
  record CpuPinned(long id) implements BufferLocation {}

  /** The memory of CUDA device {@code device} ({@code TRITONSERVER_MEMORY_GPU}, id = device). */
  record Gpu(int device) implements BufferLocation {}

  /**
   * The location Triton named; a memory type this backend does not know fails the request
   * (UNSUPPORTED), naming the input and what Triton said.
   */
  static BufferLocation of(String input, int memoryType, long id) {
    if (memoryType == TRITONSERVER_MEMORY_CPU) {
      return id == 0 ? CPU : new Cpu(id);
    }
    if (memoryType == TRITONSERVER_MEMORY_CPU_PINNED) {
      return new CpuPinned(id);
    }
    if (memoryType == TRITONSERVER_MEMORY_GPU && id >= 0 && id <= Integer.MAX_VALUE) {
      return new Gpu((int) id);
    }
    throw new TritonException(TritonException.UNSUPPORTED, "input '" + input + "' is in memory type "
        + memoryType + ", id " + id + ", which java_onnxruntime does not know (it reads CPU, "
        + "CPU_PINNED and GPU memory)");
  }

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
