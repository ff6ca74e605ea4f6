package dev.javaonnxruntime.triton;

import dev.javaonnxruntime.config.DataType;

/**
 * One request input as Triton holds it: properties and the addresses of its buffers (an input may
 * arrive in several, as HTTP does). A view of Triton's memory, valid until the request is
 * released; never copied into the Java heap, never freed here.
 */
record InputView(String name, DataType dataType, long[] shape, long byteSize, long[] addresses,
    long[] sizes, boolean onHost) {

  /** The single buffer's address when the input arrived contiguous, else 0. */
  long contiguousAddress() {
    return addresses.length == 1 ? addresses[0] : 0;
  }
}
