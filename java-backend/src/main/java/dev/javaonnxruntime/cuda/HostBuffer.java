package dev.javaonnxruntime.cuda;

import org.bytedeco.javacpp.Pointer;

/**
 * A {@link StagingBuffer} in ordinary host memory ({@code malloc}): for KIND_CPU instances and
 * tests. Owns its block and frees it on growth and on {@link #close}; closing twice is safe. Not
 * thread-safe (one instance thread at a time).
 */
public final class HostBuffer implements StagingBuffer {
  private long address;
  private long capacity;
  private boolean closed;

  /** Allocates {@code initialBytes} (0 allocates nothing until {@link #ensureCapacity}). */
  public HostBuffer(long initialBytes) {
    ensureCapacity(initialBytes);
  }

  @Override
  public long address() {
    return address;
  }

  @Override
  public long capacity() {
    return capacity;
  }

  @Override
  public long ensureCapacity(long bytes) {
    if (closed) {
      throw new IllegalStateException("host staging buffer is closed");
    }
    if (bytes <= capacity) {
      return address;
    }
    freeBlock();
    Pointer block = Pointer.malloc(bytes);
    if (block == null || block.isNull()) {
      throw new OutOfMemoryError("malloc of a " + bytes + "-byte staging buffer failed");
    }
    address = block.address();
    capacity = bytes;
    return address;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      freeBlock();
    }
  }

  private void freeBlock() {
    if (address != 0) {
      Pointer.free(NativeAddress.at(address));
      address = 0;
      capacity = 0;
    }
  }
}
