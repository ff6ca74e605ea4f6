package dev.javaonnxruntime.cuda;

/**
 * Byte copies between two host addresses, for code that names host memory by {@code long}
 * addresses and imports no JavaCPP. Views only: it never allocates or frees. Thread-safe.
 */
public final class HostBytes {
  private HostBytes() {}

  /** Copies {@code bytes} bytes from host address {@code src} to host address {@code dst}. */
  public static void copy(long dst, long src, long bytes) {
    NativeAddress.copy(dst, src, bytes);
  }
}
