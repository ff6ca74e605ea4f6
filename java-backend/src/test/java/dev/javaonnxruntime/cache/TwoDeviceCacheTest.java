package dev.javaonnxruntime.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.javaonnxruntime.cuda.HostBuffer;
import dev.javaonnxruntime.cuda.HostMemory;
import dev.javaonnxruntime.cuda.HostStream;
import org.junit.jupiter.api.Test;

/**
 * Two logical devices over host memory (issue F without a second GPU): each device's cache holds
 * its own copy of a repeated input, its budget is its own, and eviction on one never touches the
 * other.
 */
class TwoDeviceCacheTest {
  private static final TensorLayout FP32_4X4 = new TensorLayout("FP32", new long[] {4, 4});
  private static final int SIZE = 64;

  private final HostMemory gpu0 = new HostMemory(0, 1 << 20);
  private final HostMemory gpu1 = new HostMemory(1, 1 << 20);
  private final CacheStats model = new CacheStats();

  private Lease store(InputCache cache, HostMemory memory, CacheKey key, byte[] bytes) throws Exception {
    try (HostBuffer source = TestBytes.hostCopy(bytes)) {
      return cache.store(key, FP32_4X4, bytes.length, HostStream.INSTANCE,
          address -> memory.copyHostToDevice(address, source.address(), bytes.length, HostStream.INSTANCE), model);
    }
  }

  @Test
  void eachDeviceKeepsItsOwnCopyOfARepeatedInput() throws Exception {
    byte[] bytes = TestBytes.pattern(SIZE, 7);
    CacheKey key = CacheKey.named("g", "frame");
    try (InputCache c0 = new InputCache(gpu0, 1 << 16); InputCache c1 = new InputCache(gpu1, 1 << 16)) {
      assertEquals(0, c0.deviceId());
      assertEquals(1, c1.deviceId());
      try (Lease a = store(c0, gpu0, key, bytes)) {
        assertNull(c1.lookup(key, model), "a key stored through GPU 0 is unknown on GPU 1");
        try (Lease b = store(c1, gpu1, key, bytes)) {
          assertEquals(SIZE, gpu0.liveBytes());
          assertEquals(SIZE, gpu1.liveBytes());
          assertArrayEquals(bytes, TestBytes.read(gpu0, a.address(), SIZE));
          assertArrayEquals(bytes, TestBytes.read(gpu1, b.address(), SIZE));
        }
      }
    }
    assertEquals(0, gpu0.liveBytes());
    assertEquals(0, gpu1.liveBytes());
  }

  @Test
  void evictionUnderOneDevicesBudgetLeavesTheOtherAlone() throws Exception {
    try (InputCache c0 = new InputCache(gpu0, 2 * SIZE); InputCache c1 = new InputCache(gpu1, 2 * SIZE)) {
      store(c1, gpu1, CacheKey.named("g", "kept"), TestBytes.pattern(SIZE, 1)).close();
      for (int i = 0; i < 5; i++) { // GPU 0 evicts over and over under its own budget
        store(c0, gpu0, CacheKey.named("g", "k" + i), TestBytes.pattern(SIZE, 10 + i)).close();
      }
      assertNull(c0.lookup(CacheKey.named("g", "k0"), model), "GPU 0 evicted its oldest entry");
      try (Lease kept = c1.lookup(CacheKey.named("g", "kept"), model)) {
        assertNotNull(kept, "GPU 1's entry survives GPU 0's evictions");
        assertArrayEquals(TestBytes.pattern(SIZE, 1), TestBytes.read(gpu1, kept.address(), SIZE));
      }
      assertEquals(SIZE, c1.residentBytes());
    }
  }
}
