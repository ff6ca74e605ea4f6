package dev.javaonnxruntime.read;

import dev.javaonnxruntime.config.DataType;

/**
 * One request input as Triton holds it: properties, and the address, size and location of each
 * of its buffers (an input may arrive in several, as HTTP does, and each says where it is: host
 * memory, pinned host memory, or a GPU, with the memory type id). A view of Triton's memory,
 * valid until the request is released; never copied into the Java heap, never freed here.
 *
 * @param name the input's name
 * @param dataType its element type
 * @param shape its shape, batch dimension included where the model has one
 * @param byteSize the byte size Triton declares for it
 * @param addresses the address of each buffer, in order
 * @param sizes the byte size of each buffer
 * @param locations where each buffer lies
 */
public record InputView(String name, DataType dataType, long[] shape, long byteSize,
    long[] addresses, long[] sizes, BufferLocation[] locations) {

  /** The single buffer's address when the input arrived contiguous, else 0. */
  public long contiguousAddress() {
    return addresses.length == 1 ? addresses[0] : 0;
  }

  /** Whether every buffer is in host memory (pageable or pinned): bytes the CPU can read. */
  public boolean onHost() {
    for (BufferLocation l : locations) {
      if (!l.onHost()) {
        return false;
      }
    }
    return true;
  }
}
