package dev.javaonnxruntime.cuda;

import org.bytedeco.javacpp.Pointer;

/**
 * Byte copies between host addresses (and into Java arrays), for code that names host memory by {@code long}
 * addresses and imports no JavaCPP. Views only: it never allocates or frees. Thread-safe.
 */
public final class HostBytes {
  private HostBytes() {}

  /** Copies {@code bytes} bytes from host address {@code src} to host address {@code dst}. */
  public static void copy(long dst, long src, long bytes) {
    NativeAddress.copy(dst, src, bytes);
  }

  /** Sets {@code bytes} bytes at host address {@code address} to zero. */
  public static void zero(long address, long bytes) {
    if (bytes > 0) {
      Pointer.memset(NativeAddress.at(address), 0, bytes);
    }
  }

  /** Copies {@code dst.length} bytes from host address {@code src} into {@code dst}. */
  public static void get(long src, byte[] dst) {
    NativeAddress.get(src, dst, 0, dst.length);
  }
}
