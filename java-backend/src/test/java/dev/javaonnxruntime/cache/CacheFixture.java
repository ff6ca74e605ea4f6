package dev.javaonnxruntime.cache;

import dev.javaonnxruntime.cuda.HostBuffer;
import dev.javaonnxruntime.cuda.HostMemory;
import dev.javaonnxruntime.cuda.HostStream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What the cache tests share: host memory standing in for a device, one model's counters; as a
 * registered extension it checks after each test that every block was freed.
 */
final class CacheFixture implements AfterEachCallback {
  static final TensorLayout FP32_4X4 = new TensorLayout("FP32", new long[] {4, 4});
  static final int SIZE = 64;

  final HostMemory memory = new HostMemory();
  final CacheStats model = new CacheStats();

  /** Stores {@code bytes} under {@code key} by copying them from a host buffer. */
  Lease store(InputCache cache, CacheKey key, TensorLayout layout, byte[] bytes)
      throws CacheCapacityException {
    try (HostBuffer source = TestBytes.hostCopy(bytes)) {
      return cache.store(
          key,
          layout,
          bytes.length,
          HostStream.INSTANCE,
          address -> memory.copyHostToDevice(address, source.address(), bytes.length, HostStream.INSTANCE),
          model);
    }
  }

  CacheKey.Content contentKey(InputCache cache, ContentHasher hasher, byte[] bytes) {
    return contentKey(cache, hasher, "g", bytes);
  }

  CacheKey.Content contentKey(InputCache cache, ContentHasher hasher, String scope, byte[] bytes) {
    try (HostBuffer source = TestBytes.hostCopy(bytes)) {
      return cache.contentKey(
          hasher, scope, HostBuffers.single(source.address(), bytes.length), FP32_4X4, model);
    }
  }

  byte[] read(Lease lease) {
    return TestBytes.read(memory, lease.address(), (int) lease.byteSize());
  }

  /** Lookup, and on a miss store (null when the store is refused for lack of room is thrown). */
  Lease lookupOrStore(InputCache cache, CacheKey key, byte[] bytes) throws CacheCapacityException {
    Lease hit = cache.lookup(key, model);
    return hit != null ? hit : store(cache, key, FP32_4X4, bytes);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    Assertions.assertEquals(0, memory.liveBytes(), "device bytes still allocated after the test");
  }
}
