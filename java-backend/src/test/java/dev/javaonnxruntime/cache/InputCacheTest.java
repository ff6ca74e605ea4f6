package dev.javaonnxruntime.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.javaonnxruntime.cuda.CudaMemory;
import dev.javaonnxruntime.cuda.CudaRuntime;
import dev.javaonnxruntime.cuda.DeviceAllocationException;
import dev.javaonnxruntime.cuda.HostBuffer;
import dev.javaonnxruntime.cuda.HostMemory;
import dev.javaonnxruntime.cuda.HostStream;
import dev.javaonnxruntime.cuda.StagingBuffer;
import dev.javaonnxruntime.cuda.Stream;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class InputCacheTest {
  private static final TensorLayout FP32_4X4 = new TensorLayout("FP32", new long[] {4, 4});
  private static final int SIZE = 64;

  private final HostMemory memory = new HostMemory();
  private final CacheStats model = new CacheStats();

  @AfterEach
  void everyBlockIsFreed() {
    assertEquals(0, memory.liveBytes(), "device bytes still allocated after the test");
  }

  /** Stores {@code bytes} under {@code key} by copying them from a host buffer. */
  private Lease store(InputCache cache, CacheKey key, TensorLayout layout, byte[] bytes)
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

  private CacheKey.Content contentKey(InputCache cache, ContentHasher hasher, byte[] bytes) {
    return contentKey(cache, hasher, "g", bytes);
  }

  private CacheKey.Content contentKey(
      InputCache cache, ContentHasher hasher, String scope, byte[] bytes) {
    try (HostBuffer source = TestBytes.hostCopy(bytes)) {
      return cache.contentKey(
          hasher, scope, HostBuffers.single(source.address(), bytes.length), FP32_4X4, model);
    }
  }

  private byte[] read(Lease lease) {
    return TestBytes.read(memory, lease.address(), (int) lease.byteSize());
  }

  @Test
  void servesRepeatedInputFromDeviceWithoutSecondCopy() throws Exception {
    byte[] bytes = TestBytes.pattern(SIZE, 1);
    try (InputCache cache = new InputCache(memory, 1 << 20);
        ContentHasher hasher = new ContentHasher(1)) {
      CacheKey key = contentKey(cache, hasher, bytes);
      assertNull(cache.lookup(key, model));
      AtomicInteger copies = new AtomicInteger();
      try (HostBuffer source = TestBytes.hostCopy(bytes);
          Lease stored =
              cache.store(key, FP32_4X4, SIZE, HostStream.INSTANCE, address -> {
                    copies.incrementAndGet();
                    memory.copyHostToDevice(address, source.address(), SIZE, HostStream.INSTANCE);
                  }, model)) {
        assertEquals(1, copies.get());
        assertEquals(SIZE, stored.byteSize());
      }
      try (Lease hit = cache.lookup(contentKey(cache, hasher, bytes.clone()), model)) {
        assertNotNull(hit);
        assertArrayEquals(bytes, read(hit));
        assertEquals(FP32_4X4, hit.layout());
      }
      assertEquals(1, copies.get());
      assertEquals(1, model.hits());
      assertEquals(1, model.misses());
      assertEquals(SIZE, model.bytesNotCopied());
      assertEquals(1, cache.deviceStats().hits());
      assertEquals(2 * SIZE, model.hashedBytes());
      assertTrue(model.hashNanos() > 0);
      assertEquals(SIZE, cache.residentBytes());
    }
  }

  @Test
  void keepsOneEntryWhenThreeModelsStoreTheSameContentAtOnce() throws Exception {
    byte[] bytes = TestBytes.pattern(SIZE, 2);
    CacheStats[] models = {new CacheStats(), new CacheStats(), new CacheStats()};
    CyclicBarrier allAllocated = new CyclicBarrier(models.length);
    Lease[] leases = new Lease[models.length];
    try (InputCache cache = new InputCache(memory, 1 << 20);
        ContentHasher hasher = new ContentHasher(1);
        HostBuffer source = TestBytes.hostCopy(bytes)) {
      CacheKey key = contentKey(cache, hasher, bytes);
      Thread[] threads = new Thread[models.length];
      for (int m = 0; m < models.length; m++) {
        int index = m;
        threads[m] =
            new Thread(() -> {
                  try {
                    assertNull(cache.lookup(key, models[index]));
                    // All three miss, allocate and copy before any publishes: the race.
                    leases[index] =
                        cache.store(key, FP32_4X4, SIZE, HostStream.INSTANCE, address -> {
                              memory.copyHostToDevice(address, source.address(), SIZE, HostStream.INSTANCE);
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
      assertEquals(1, memory.liveAllocations(), "duplicates must be freed");
      long address = leases[0].address();
      for (Lease lease : leases) {
        assertEquals(address, lease.address());
        assertArrayEquals(bytes, read(lease));
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
  void treatsSameBytesWithAnotherShapeOrDataTypeAsAnotherEntry() throws Exception {
    byte[] bytes = TestBytes.pattern(SIZE, 3);
    TensorLayout otherShape = new TensorLayout("FP32", new long[] {2, 8});
    TensorLayout otherType = new TensorLayout("INT32", new long[] {4, 4});
    try (InputCache cache = new InputCache(memory, 1 << 20);
        ContentHasher hasher = new ContentHasher(1)) {
      CacheKey.Content key = contentKey(cache, hasher, bytes);
      store(cache, key, FP32_4X4, bytes).close();
      assertNull(cache.lookup(CacheKey.content(key.scope(), key.hash(), otherShape), model));
      assertNull(cache.lookup(CacheKey.content(key.scope(), key.hash(), otherType), model));
      store(cache, CacheKey.content(key.scope(), key.hash(), otherShape), otherShape, bytes).close();
      assertEquals(2, cache.entryCount());
    }
  }

  @Test
  void keepsTheSameContentOfTwoGroupsApartAndSharesItInTheSharedScope() throws Exception {
    byte[] bytes = TestBytes.pattern(SIZE, 4);
    try (InputCache cache = new InputCache(memory, 1 << 20);
        ContentHasher hasher = new ContentHasher(1)) {
      CacheKey.Content a = contentKey(cache, hasher, "a", bytes);
      store(cache, a, FP32_4X4, bytes).close();
      CacheKey.Content b = contentKey(cache, hasher, "b", bytes);
      assertEquals(a.hash(), b.hash());
      assertNull(cache.lookup(b, model), "group b found group a's entry");
      store(cache, b, FP32_4X4, bytes).close();
      assertEquals(2, cache.entryCount());
      CacheKey.Content shared = contentKey(cache, hasher, CacheKey.SHARED, bytes);
      assertNull(cache.lookup(shared, model), "the shared scope found a group's entry");
      store(cache, shared, FP32_4X4, bytes).close();
      try (Lease hit = cache.lookup(contentKey(cache, hasher, CacheKey.SHARED, bytes), model)) {
        assertNotNull(hit);
      }
      assertEquals(3, cache.entryCount());
    }
  }

  @Test
  void evictsLeastRecentlyUsedUnpinnedEntryToMakeRoom() throws Exception {
    try (InputCache cache = new InputCache(memory, 3 * SIZE)) {
      for (String name : new String[] {"a", "b", "c"}) {
        store(cache, CacheKey.named("m", name), FP32_4X4, TestBytes.pattern(SIZE, 4)).close();
      }
      cache.lookup(CacheKey.named("m", "a"), model).close(); // "b" is now least recent
      store(cache, CacheKey.named("m", "d"), FP32_4X4, TestBytes.pattern(SIZE, 5)).close();
      assertNull(cache.lookup(CacheKey.named("m", "b"), model));
      Lease a = cache.lookup(CacheKey.named("m", "a"), model);
      assertNotNull(a);
      a.close();
      assertEquals(1, model.evictions());
      assertEquals(3 * SIZE, memory.liveBytes());
    }
  }

  @Test
  void doesNotCacheInputLargerThanTheWholeBudget() throws Exception {
    try (InputCache cache = new InputCache(memory, SIZE - 1)) {
      assertNull(store(cache, CacheKey.named("m", "x"), FP32_4X4, TestBytes.pattern(SIZE, 6)));
      assertEquals(0, memory.liveAllocations());
    }
  }

  @Test
  void failsOnlyTheStoreWhenPinnedEntriesFillTheBudget() throws Exception {
    try (InputCache cache = new InputCache(memory, 2 * SIZE)) {
      Lease a = store(cache, CacheKey.named("m", "a"), FP32_4X4, TestBytes.pattern(SIZE, 7));
      Lease b = store(cache, CacheKey.named("m", "b"), FP32_4X4, TestBytes.pattern(SIZE, 8));
      CacheCapacityException full =
          assertThrows(
              CacheCapacityException.class,
              () -> store(cache, CacheKey.named("m", "c"), FP32_4X4, TestBytes.pattern(SIZE, 9)));
      assertTrue(full.getMessage().contains("open leases pin"), full.getMessage());
      assertEquals(2 * SIZE, cache.residentBytes());
      a.close();
      store(cache, CacheKey.named("m", "c"), FP32_4X4, TestBytes.pattern(SIZE, 9)).close();
      b.close();
    }
  }

  @Test
  void evictsAndRetriesWhenTheDeviceRefusesThenFailsClearly() throws Exception {
    try (InputCache cache = new InputCache(memory, 1 << 20)) {
      store(cache, CacheKey.named("m", "a"), FP32_4X4, TestBytes.pattern(SIZE, 10)).close();
      Lease pinned = store(cache, CacheKey.named("m", "b"), FP32_4X4, TestBytes.pattern(SIZE, 11));
      memory.failNextAllocations(1);
      byte[] c = TestBytes.pattern(SIZE, 12);
      try (Lease stored = store(cache, CacheKey.named("m", "c"), FP32_4X4, c)) {
        assertArrayEquals(c, read(stored));
      }
      assertNull(cache.lookup(CacheKey.named("m", "a"), model), "a was evicted for the retry");
      assertEquals(1, model.evictions());

      memory.failNextAllocations(100);
      CacheCapacityException failure =
          assertThrows(
              CacheCapacityException.class,
              () -> store(cache, CacheKey.named("m", "d"), FP32_4X4, TestBytes.pattern(SIZE, 13)));
      assertInstanceOf(DeviceAllocationException.class, failure.getCause());
      assertTrue(failure.getMessage().contains("no room"), failure.getMessage());
      assertEquals(SIZE, cache.residentBytes(), "only the pinned entry stays");
      assertArrayEquals(TestBytes.pattern(SIZE, 11), read(pinned));
      memory.failNextAllocations(0);
      pinned.close();
    }
  }

  @Test
  void freesTheBlockAndRethrowsWhenTheWriterFails() throws Exception {
    try (InputCache cache = new InputCache(memory, 1 << 20)) {
      IllegalStateException failure = new IllegalStateException("copy failed");
      assertSame(
          failure,
          assertThrows(
              IllegalStateException.class,
              () -> cache.store(CacheKey.named("m", "x"), FP32_4X4, SIZE, HostStream.INSTANCE,
                  address -> {
                    throw failure;
                  }, model)));
      assertEquals(0, memory.liveAllocations());
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
      contents[i] = TestBytes.pattern(SIZE, 100 + i);
    }
    AtomicInteger corrupted = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    try (InputCache cache = new InputCache(memory, 4 * SIZE);
        ContentHasher hasher = new ContentHasher(1)) {
      CacheKey[] keys = new CacheKey[inputs];
      for (int i = 0; i < inputs; i++) {
        keys[i] = i % 2 == 0 ? contentKey(cache, hasher, contents[i]) : CacheKey.named("g", "k" + i);
      }
      Thread[] threads = new Thread[8];
      for (int t = 0; t < threads.length; t++) {
        int seed = t;
        threads[t] =
            new Thread(() -> {
                  java.util.Random random = new java.util.Random(seed);
                  for (int iteration = 0; iteration < 300; iteration++) {
                    int input = random.nextInt(inputs);
                    try (Lease lease = lookupOrStore(cache, keys[input], contents[input])) {
                      if (lease == null) {
                        continue;
                      }
                      Thread.yield(); // let others evict while this entry is pinned
                      if (!java.util.Arrays.equals(contents[input], read(lease))) {
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
      assertTrue(cache.residentBytes() <= 4 * SIZE);
      assertEquals(cache.residentBytes(), memory.liveBytes());
    }
  }

  /** Lookup, and on a miss store (null when the store is refused for lack of room is thrown). */
  private Lease lookupOrStore(InputCache cache, CacheKey key, byte[] bytes)
      throws CacheCapacityException {
    Lease hit = cache.lookup(key, model);
    return hit != null ? hit : store(cache, key, FP32_4X4, bytes);
  }

  @Test
  void keepsOldBytesOfReplacedNamedEntryUntilItsLeaseCloses() throws Exception {
    byte[] first = TestBytes.pattern(SIZE, 14);
    byte[] second = TestBytes.pattern(SIZE, 15);
    CacheKey key = CacheKey.named("m", "prompt");
    try (InputCache cache = new InputCache(memory, 1 << 20)) {
      store(cache, key, FP32_4X4, first).close();
      Lease inFlight = cache.lookup(key, model);
      store(cache, key, FP32_4X4, second).close();
      try (Lease fresh = cache.lookup(key, model)) {
        assertArrayEquals(second, read(fresh));
        assertNotEquals(inFlight.address(), fresh.address());
      }
      assertArrayEquals(first, read(inFlight));
      assertEquals(2, memory.liveAllocations());
      assertEquals(1, cache.entryCount());
      inFlight.close();
      assertEquals(1, memory.liveAllocations());
      assertEquals(SIZE, cache.residentBytes());
    }
  }

  @Test
  void keepsNamedKeysOfOneGroupAwayFromAnother() throws Exception {
    byte[] mine = TestBytes.pattern(SIZE, 16);
    byte[] theirs = TestBytes.pattern(SIZE, 17);
    try (InputCache cache = new InputCache(memory, 1 << 20)) {
      store(cache, CacheKey.named("group-a", "x"), FP32_4X4, mine).close();
      assertNull(cache.lookup(CacheKey.named("group-b", "x"), model));
      store(cache, CacheKey.named("group-b", "x"), FP32_4X4, theirs).close();
      try (Lease a = cache.lookup(CacheKey.named("group-a", "x"), model);
          Lease b = cache.lookup(CacheKey.named("group-b", "x"), model)) {
        assertArrayEquals(mine, read(a));
        assertArrayEquals(theirs, read(b));
      }
    }
  }

  @Test
  void removeGroupDropsItsNamedAndContentEntriesAndFreesThemWhenUnpinned() throws Exception {
    try (InputCache cache = new InputCache(memory, 1 << 20);
        ContentHasher hasher = new ContentHasher(1)) {
      store(cache, CacheKey.named("a", "x"), FP32_4X4, TestBytes.pattern(SIZE, 18)).close();
      Lease pinned = store(cache, CacheKey.named("a", "y"), FP32_4X4, TestBytes.pattern(SIZE, 19));
      store(cache, CacheKey.named("b", "x"), FP32_4X4, TestBytes.pattern(SIZE, 20)).close();
      byte[] shared = TestBytes.pattern(SIZE, 21);
      store(cache, contentKey(cache, hasher, CacheKey.SHARED, shared), FP32_4X4, shared).close();
      CacheKey.Content ofA = contentKey(cache, hasher, "a", shared);
      store(cache, ofA, FP32_4X4, shared).close();
      assertEquals(5, cache.entryCount());

      assertEquals(2, cache.removeGroup("a"));
      assertNull(cache.lookup(CacheKey.named("a", "x"), model));
      assertNull(cache.lookup(CacheKey.named("a", "y"), model));
      assertNull(cache.lookup(ofA, model));
      assertEquals(2, cache.entryCount(), "b's entry and the shared content entry stay");
      assertEquals(3, memory.liveAllocations(), "the pinned entry waits for its lease");
      assertArrayEquals(TestBytes.pattern(SIZE, 19), read(pinned));
      pinned.close();
      assertEquals(2, memory.liveAllocations());
    }
  }

  /** On a GPU: stored on one stream, read on another that waits on the entry's fence. */
  @Test
  @Tag("gpu")
  void servesEntryStoredOnOneStreamToAnotherStreamOnGpu() throws Exception {
    assumeTrue(CudaRuntime.deviceCount() > 0, () -> "no CUDA device: " + CudaRuntime.unavailabilityCause());
    CudaMemory gpu = new CudaMemory(0);
    byte[] bytes = TestBytes.pattern(8 << 20, 30);
    TensorLayout layout = new TensorLayout("UINT8", new long[] {bytes.length});
    try (InputCache cache = new InputCache(gpu, 64 << 20);
        ContentHasher hasher = new ContentHasher(4);
        StagingBuffer staging = gpu.newStagingBuffer(bytes.length);
        StagingBuffer back = gpu.newStagingBuffer(bytes.length);
        Stream writer = gpu.newStream();
        Stream reader = gpu.newStream()) {
      staging.put(0, bytes);
      CacheKey key =
          cache.contentKey(hasher, "g", HostBuffers.single(staging.address(), bytes.length), layout,
              model);
      try (Lease stored = cache.store(key, layout, bytes.length, writer,
              address -> gpu.copyHostToDevice(address, staging.address(), bytes.length, writer),
              model);
          Lease hit = cache.lookup(key, model)) {
        hit.awaitOn(reader);
        gpu.copyDeviceToHost(back.address(), hit.address(), bytes.length, reader);
        reader.synchronize();
        writer.synchronize();
        assertEquals(stored.address(), hit.address());
      }
      byte[] result = new byte[bytes.length];
      back.get(0, result);
      assertArrayEquals(bytes, result);
      assertEquals(1, model.hits());
    }
  }

  @Test
  void closeFreesEveryBlockAndReportsOpenLeases() throws Exception {
    InputCache cache = new InputCache(memory, 1 << 20);
    store(cache, CacheKey.named("m", "a"), FP32_4X4, TestBytes.pattern(SIZE, 22)).close();
    Lease leaked = store(cache, CacheKey.named("m", "b"), FP32_4X4, TestBytes.pattern(SIZE, 23));
    Lease replacedAndLeaked = cache.lookup(CacheKey.named("m", "a"), model);
    store(cache, CacheKey.named("m", "a"), FP32_4X4, TestBytes.pattern(SIZE, 24)).close();
    assertEquals(3 * SIZE, memory.liveBytes());
    IllegalStateException report = assertThrows(IllegalStateException.class, cache::close);
    assertTrue(report.getMessage().contains("open leases"), report.getMessage());
    assertEquals(0, memory.liveBytes());
    leaked.close(); // after close: a no-op, never a second free
    replacedAndLeaked.close();
    cache.close();
    assertThrows(IllegalStateException.class, () -> cache.lookup(CacheKey.named("m", "a"), model));
  }
}
