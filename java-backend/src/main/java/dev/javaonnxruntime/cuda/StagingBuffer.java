package dev.javaonnxruntime.cuda;

/**
 * A reusable host buffer that grows: where an instance gathers an input that arrives in several
 * host buffers before one copy to the device.
 *
 * <p>Why it exists: allocating pinned memory per request is slow, so each instance keeps one
 * buffer and grows it when an input is larger than any before ({@link PinnedBuffer} for a GPU,
 * {@link HostBuffer} for the CPU and tests).
 *
 * <p>Ownership: the instance that creates it owns the memory and closes it (instance finalize);
 * growing frees the old block, so addresses obtained earlier become invalid. Closing twice is
 * safe. Not thread-safe: one instance thread uses it at a time. Accessors check bounds and throw
 * {@link IndexOutOfBoundsException} with the numbers.
 */
public interface StagingBuffer extends AutoCloseable {
  /** The host address of the buffer, 0 when it holds no memory yet. */
  long address();

  /** The usable size in bytes. */
  long capacity();

  /**
   * Makes the buffer hold at least {@code bytes}, reallocating (contents not kept) when it is
   * smaller; returns the address, which changes when the buffer grew.
   */
  long ensureCapacity(long bytes);

  /** Copies {@code src} into the buffer at byte {@code offset}. */
  default void put(long offset, byte[] src) {
    NativeAddress.checkBounds(offset, src.length, capacity());
    NativeAddress.put(address() + offset, src, 0, src.length);
  }

  /** Copies bytes from the buffer at {@code offset} into all of {@code dst}. */
  default void get(long offset, byte[] dst) {
    NativeAddress.checkBounds(offset, dst.length, capacity());
    NativeAddress.get(address() + offset, dst, 0, dst.length);
  }

  /** Frees the memory. */
  @Override
  void close();
}
