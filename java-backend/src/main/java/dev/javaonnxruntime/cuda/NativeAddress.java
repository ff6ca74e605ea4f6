package dev.javaonnxruntime.cuda;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * A JavaCPP {@link Pointer} view of a raw address, plus host byte copies through it.
 *
 * <p>Why it exists: this package names memory by {@code long} addresses, while the cudart preset
 * takes {@code Pointer}s. A view carries the address and has no deallocator: it never frees,
 * and the garbage collector has nothing to do with the memory it names. Thread-safe (static
 * helpers; each view is confined to its call).
 */
final class NativeAddress extends Pointer {
  private NativeAddress(long address) {
    super((Pointer) null);
    this.address = address;
  }

  /** A non-owning view of {@code address}. */
  static Pointer at(long address) {
    return new NativeAddress(address);
  }

  /** Host memcpy between two host addresses. */
  static void copy(long dst, long src, long bytes) {
    if (bytes > 0) {
      Pointer.memcpy(at(dst), at(src), bytes);
    }
  }

  /** Copies {@code length} bytes of {@code src} from {@code offset} to host {@code address}. */
  static void put(long address, byte[] src, int offset, int length) {
    new BytePointer(at(address)).capacity(length).put(src, offset, length);
  }

  /** Copies {@code length} bytes from host {@code address} into {@code dst} at {@code offset}. */
  static void get(long address, byte[] dst, int offset, int length) {
    new BytePointer(at(address)).capacity(length).get(dst, offset, length);
  }

  /** Throws when [offset, offset + length) is not inside [0, capacity). */
  static void checkBounds(long offset, long length, long capacity) {
    if (offset < 0 || length < 0 || offset + length > capacity) {
      throw new IndexOutOfBoundsException(
          "offset=" + offset + " length=" + length + " is beyond capacity=" + capacity);
    }
  }
}
