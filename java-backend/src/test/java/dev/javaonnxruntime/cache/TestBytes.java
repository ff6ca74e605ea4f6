package dev.javaonnxruntime.cache;

import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.cuda.HostBuffer;
import dev.javaonnxruntime.cuda.HostStream;

/** Test helpers: deterministic byte patterns, and reading back bytes from a device address. */
final class TestBytes {
  private TestBytes() {}

  /** {@code length} bytes that depend on {@code seed}. */
  static byte[] pattern(int length, int seed) {
    byte[] bytes = new byte[length];
    long x = seed * 0x9E3779B97F4A7C15L + 1;
    for (int i = 0; i < length; i++) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      bytes[i] = (byte) x;
    }
    return bytes;
  }

  /** A host buffer holding {@code bytes}; the caller closes it. */
  static HostBuffer hostCopy(byte[] bytes) {
    HostBuffer buffer = new HostBuffer(Math.max(1, bytes.length));
    buffer.put(0, bytes);
    return buffer;
  }

  /** The {@code length} bytes at {@code address} of {@code memory}. */
  static byte[] read(DeviceMemory memory, long address, int length) {
    byte[] bytes = new byte[length];
    try (HostBuffer buffer = new HostBuffer(Math.max(1, length))) {
      memory.copyDeviceToHost(buffer.address(), address, length, HostStream.INSTANCE);
      buffer.get(0, bytes);
    }
    return bytes;
  }
}
