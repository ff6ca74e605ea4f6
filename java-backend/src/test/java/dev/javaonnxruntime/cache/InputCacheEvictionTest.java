package dev.javaonnxruntime.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.javaonnxruntime.cuda.DeviceAllocationException;
import dev.javaonnxruntime.cuda.HostBuffer;
import dev.javaonnxruntime.cuda.HostMemory;
import dev.javaonnxruntime.cuda.HostStream;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
/**
 * Room in the cache and concurrent users: eviction, the budget, refused allocations, one entry for
 * one content stored at once, pinned entries under load.
 */
class InputCacheEvictionTest {
  @RegisterExtension final CacheFixture f = new CacheFixture();

  @Test
  void keepsOneEntryWhenThreeModelsStoreTheSameContentAtOnce() throws Exception {
    byte[] bytes = TestBytes.pattern(CacheFixture.SIZE, 2);
    CacheStats[] models = {new CacheStats(), new CacheStats(), new CacheStats()};
    CyclicBarrier allAllocated = new CyclicBarrier(models.length);
    Lease[] leases = new Lease[models.length];
    try (InputCache cache = new InputCache(f.memory, 1 << 20);
        ContentHasher hasher = new ContentHasher(1);
        HostBuffer source = TestBytes.hostCopy(bytes)) {
      CacheKey key = f.contentKey(cache, hasher, bytes);
      Thread[] threads = new Thread[models.length];
      for (int m = 0; m < models.length; m++) {
        int index = m;
        threads[m] =
            new Thread(() -> {
                  try {
                    assertNull(cache.lookup(key, models[index]));
                    // All three miss, allocate and copy before any publishes: the race.
                    leases[index] =
                        cache.store(key, CacheFixture.FP32_4X4, CacheFixture.SIZE, HostStream.INSTANCE, address -> {
                              f.memory.copyHostToDevice(address, source.address(), CacheFixture.SIZE, HostStream.INSTANCE);
                              await(allAllocated);
                            }, models[index]);
                  } catch (CacheCapacityException e) {
                    throw new AssertionError(e);
                  }
                });
        threads[m].start();
      }
      for (Thread thread : threads) {
        thread.join(10_000);
      }
      assertEquals(1, cache.entryCount());
      assertEquals(1, f.memory.liveAllocations(), "duplicates must be freed");
      long address = leases[0].address();
      for (Lease lease : leases) {
        assertEquals(address, lease.address());
        assertArrayEquals(bytes, f.read(lease));
        lease.close();
      }
      try (Lease hit = cache.lookup(key, models[1])) {
        assertNotNull(hit);
      }
    }
  }

  private static void await(CyclicBarrier barrier) {
    try {
      barrier.await();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }


  @Test
  void evictsLeastRecentlyUsedUnpinnedEntryToMakeRoom() throws Exception {
    try (InputCache cache = new InputCache(f.memory, 3 * CacheFixture.SIZE)) {
      for (String name : new String[] {"a", "b", "c"}) {
        f.store(cache, CacheKey.named("m", name), CacheFixture.FP32_4X4, TestBytes.pattern(CacheFixture.SIZE, 4)).close();
      }
      cache.lookup(CacheKey.named("m", "a"), f.model).close(); // "b" is now least recent
      f.store(cache, CacheKey.named("m", "d"), CacheFixture.FP32_4X4, TestBytes.pattern(CacheFixture.SIZE, 5)).close();
      assertNull(cache.lookup(CacheKey.named("m", "b"), f.model));
      Lease a = cache.lookup(CacheKey.named("m", "a"), f.model);
      assertNotNull(a);
      a.close();
      assertEquals(1, f.model.evictions());
      assertEquals(3 * CacheFixture.SIZE, f.memory.liveBytes());
    }
  }


  @Test
  void evictsByLastUseNotByStoreOrder() throws Exception {
    try (InputCache cache = new InputCache(f.memory, 4 * CacheFixture.SIZE)) {
      for (String name : new String[] {"a", "b", "c", "d"}) {
        f.store(cache, CacheKey.named("m", name), CacheFixture.FP32_4X4,
            TestBytes.pattern(CacheFixture.SIZE, 4)).close();
      }
      cache.lookup(CacheKey.named("m", "c"), f.model).close();
      cache.lookup(CacheKey.named("m", "a"), f.model).close(); // by last use: b, d, c, a
      f.store(cache, CacheKey.named("m", "e"), CacheFixture.FP32_4X4,
          TestBytes.pattern(2 * CacheFixture.SIZE, 5)).close();
      assertNull(cache.lookup(CacheKey.named("m", "b"), f.model));
      assertNull(cache.lookup(CacheKey.named("m", "d"), f.model));
      for (String name : new String[] {"a", "c", "e"}) {
        Lease kept = cache.lookup(CacheKey.named("m", name), f.model);
        assertNotNull(kept, name);
        kept.close();
      }
      assertEquals(2, f.model.evictions());
      assertEquals(3, cache.entryCount());
      assertEquals(4 * CacheFixture.SIZE, cache.residentBytes());
    }
  }

  @Test
  void doesNotCacheInputLargerThanTheWholeBudget() throws Exception {
    try (InputCache cache = new InputCache(f.memory, CacheFixture.SIZE - 1)) {
      assertNull(f.store(cache, CacheKey.named("m", "x"), CacheFixture.FP32_4X4, TestBytes.pattern(CacheFixture.SIZE, 6)));
      assertEquals(0, f.memory.liveAllocations());
    }
  }


  @Test
  void failsOnlyTheStoreWhenPinnedEntriesFillTheBudget() throws Exception {
    try (InputCache cache = new InputCache(f.memory, 2 * CacheFixture.SIZE)) {
      Lease a = f.store(cache, CacheKey.named("m", "a"), CacheFixture.FP32_4X4, TestBytes.pattern(CacheFixture.SIZE, 7));
      Lease b = f.store(cache, CacheKey.named("m", "b"), CacheFixture.FP32_4X4, TestBytes.pattern(CacheFixture.SIZE, 8));
      CacheCapacityException full =
          assertThrows(
              CacheCapacityException.class,
              () -> f.store(cache, CacheKey.named("m", "c"), CacheFixture.FP32_4X4, TestBytes.pattern(CacheFixture.SIZE, 9)));
      assertTrue(full.getMessage().contains("open leases pin"), full.getMessage());
      assertEquals(2 * CacheFixture.SIZE, cache.residentBytes());
      a.close();
      f.store(cache, CacheKey.named("m", "c"), CacheFixture.FP32_4X4, TestBytes.pattern(CacheFixture.SIZE, 9)).close();
      b.close();
    }
  }


  @Test
  void evictsAndRetriesWhenTheDeviceRefusesThenFailsClearly() throws Exception {
    try (InputCache cache = new InputCache(f.memory, 1 << 20)) {
      f.store(cache, CacheKey.named("m", "a"), CacheFixture.FP32_4X4, TestBytes.pattern(CacheFixture.SIZE, 10)).close();
      Lease pinned = f.store(cache, CacheKey.named("m", "b"), CacheFixture.FP32_4X4, TestBytes.pattern(CacheFixture.SIZE, 11));
      f.memory.failNextAllocations(1);
      byte[] c = TestBytes.pattern(CacheFixture.SIZE, 12);
      try (Lease stored = f.store(cache, CacheKey.named("m", "c"), CacheFixture.FP32_4X4, c)) {
        assertArrayEquals(c, f.read(stored));
      }
      assertNull(cache.lookup(CacheKey.named("m", "a"), f.model), "a was evicted for the retry");
      assertEquals(1, f.model.evictions());

      f.memory.failNextAllocations(100);
      CacheCapacityException failure =
          assertThrows(
              CacheCapacityException.class,
              () -> f.store(cache, CacheKey.named("m", "d"), CacheFixture.FP32_4X4, TestBytes.pattern(CacheFixture.SIZE, 13)));
      assertInstanceOf(DeviceAllocationException.class, failure.getCause());
      assertTrue(failure.getMessage().contains("no room"), failure.getMessage());
      assertEquals(CacheFixture.SIZE, cache.residentBytes(), "only the pinned entry stays");
      assertArrayEquals(TestBytes.pattern(CacheFixture.SIZE, 11), f.read(pinned));
      f.memory.failNextAllocations(0);
      pinned.close();
    }
  }


  @Test
  void freesTheBlockAndRethrowsWhenTheWriterFails() throws Exception {
    try (InputCache cache = new InputCache(f.memory, 1 << 20)) {
      IllegalStateException failure = new IllegalStateException("copy failed");
      assertSame(
          failure,
          assertThrows(
              IllegalStateException.class,
              () -> cache.store(CacheKey.named("m", "x"), CacheFixture.FP32_4X4, CacheFixture.SIZE, HostStream.INSTANCE,
                  address -> {
                    throw failure;
                  }, f.model)));
      assertEquals(0, f.memory.liveAllocations());
      assertEquals(0, cache.residentBytes());
      assertEquals(0, cache.entryCount());
    }
  }

  /**
   * Eight threads share a budget of four entries across sixteen inputs, so stores keep evicting
   * while other threads read. A block freed under a reader would be reused by a later allocation
   * and show other bytes (or HostMemory would reject a double free).
   */

  @Test
  void neverFreesPinnedEntriesWhileConcurrentUsersEvict() throws Exception {
    int inputs = 16;
    byte[][] contents = new byte[inputs][];
    for (int i = 0; i < inputs; i++) {
      contents[i] = TestBytes.pattern(CacheFixture.SIZE, 100 + i);
    }
    AtomicInteger corrupted = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    try (InputCache cache = new InputCache(f.memory, 4 * CacheFixture.SIZE);
        ContentHasher hasher = new ContentHasher(1)) {
      CacheKey[] keys = new CacheKey[inputs];
      for (int i = 0; i < inputs; i++) {
        keys[i] = i % 2 == 0 ? f.contentKey(cache, hasher, contents[i]) : CacheKey.named("g", "k" + i);
      }
      Thread[] threads = new Thread[8];
      for (int t = 0; t < threads.length; t++) {
        int seed = t;
        threads[t] =
            new Thread(() -> {
                  java.util.Random random = new java.util.Random(seed);
                  for (int iteration = 0; iteration < 300; iteration++) {
                    int input = random.nextInt(inputs);
                    try (Lease lease = f.lookupOrStore(cache, keys[input], contents[input])) {
                      if (lease == null) {
                        continue;
                      }
                      Thread.yield(); // let others evict while this entry is pinned
                      if (!java.util.Arrays.equals(contents[input], f.read(lease))) {
                        corrupted.incrementAndGet();
                      }
                    } catch (CacheCapacityException e) {
                      refused.incrementAndGet();
                    } catch (RuntimeException | Error e) {
                      failed.incrementAndGet();
                    }
                  }
                });
        threads[t].start();
      }
      for (Thread thread : threads) {
        thread.join(60_000);
      }
      assertEquals(0, failed.get());
      assertEquals(0, corrupted.get());
      assertTrue(cache.deviceStats().evictions() > 0, "the budget must force evictions");
      assertTrue(cache.residentBytes() <= 4 * CacheFixture.SIZE);
      assertEquals(cache.residentBytes(), f.memory.liveBytes());
    }
  }
}
