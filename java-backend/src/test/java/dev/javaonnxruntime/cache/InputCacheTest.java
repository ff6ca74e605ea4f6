package dev.javaonnxruntime.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.javaonnxruntime.cuda.CudaMemory;
import dev.javaonnxruntime.cuda.CudaRuntime;
import dev.javaonnxruntime.cuda.HostBuffer;
import dev.javaonnxruntime.cuda.HostStream;
import dev.javaonnxruntime.cuda.StagingBuffer;
import dev.javaonnxruntime.cuda.Stream;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
/** Lookups and stores: content and named keys, groups, streams, close. */
class InputCacheTest {
  @RegisterExtension final CacheFixture f = new CacheFixture();

  @Test
  void servesRepeatedInputFromDeviceWithoutSecondCopy() throws Exception {
    byte[] bytes = TestBytes.pattern(CacheFixture.SIZE, 1);
    try (InputCache cache = new InputCache(f.memory, 1 << 20);
        ContentHasher hasher = new ContentHasher(1)) {
      CacheKey key = f.contentKey(cache, hasher, bytes);
      assertNull(cache.lookup(key, f.model));
      AtomicInteger copies = new AtomicInteger();
      try (HostBuffer source = TestBytes.hostCopy(bytes);
          Lease stored =
              cache.store(key, CacheFixture.FP32_4X4, CacheFixture.SIZE, HostStream.INSTANCE, address -> {
                    copies.incrementAndGet();
                    f.memory.copyHostToDevice(address, source.address(), CacheFixture.SIZE, HostStream.INSTANCE);
                  }, f.model)) {
        assertEquals(1, copies.get());
        assertEquals(CacheFixture.SIZE, stored.byteSize());
      }
      try (Lease hit = cache.lookup(f.contentKey(cache, hasher, bytes.clone()), f.model)) {
        assertNotNull(hit);
        assertArrayEquals(bytes, f.read(hit));
        assertEquals(CacheFixture.FP32_4X4, hit.layout());
      }
      assertEquals(1, copies.get());
      assertEquals(1, f.model.hits());
      assertEquals(1, f.model.misses());
      assertEquals(CacheFixture.SIZE, f.model.bytesNotCopied());
      // Hits are the model's: a hit writes no counter that the device's other threads write.
      assertEquals(0, cache.deviceStats().hits());
      assertEquals(1, cache.deviceStats().stores());
      assertEquals(2 * CacheFixture.SIZE, f.model.hashedBytes());
      assertTrue(f.model.hashNanos() > 0);
      assertEquals(CacheFixture.SIZE, cache.residentBytes());
    }
  }


  @Test
  void treatsSameBytesWithAnotherShapeOrDataTypeAsAnotherEntry() throws Exception {
    byte[] bytes = TestBytes.pattern(CacheFixture.SIZE, 3);
    TensorLayout otherShape = new TensorLayout("FP32", new long[] {2, 8});
    TensorLayout otherType = new TensorLayout("INT32", new long[] {4, 4});
    try (InputCache cache = new InputCache(f.memory, 1 << 20);
        ContentHasher hasher = new ContentHasher(1)) {
      CacheKey.Content key = f.contentKey(cache, hasher, bytes);
      f.store(cache, key, CacheFixture.FP32_4X4, bytes).close();
      assertNull(cache.lookup(CacheKey.content(key.scope(), key.hash(), otherShape), f.model));
      assertNull(cache.lookup(CacheKey.content(key.scope(), key.hash(), otherType), f.model));
      f.store(cache, CacheKey.content(key.scope(), key.hash(), otherShape), otherShape, bytes).close();
      assertEquals(2, cache.entryCount());
    }
  }


  @Test
  void keepsTheSameContentOfTwoGroupsApartAndSharesItInTheSharedScope() throws Exception {
    byte[] bytes = TestBytes.pattern(CacheFixture.SIZE, 4);
    try (InputCache cache = new InputCache(f.memory, 1 << 20);
        ContentHasher hasher = new ContentHasher(1)) {
      CacheKey.Content a = f.contentKey(cache, hasher, "a", bytes);
      f.store(cache, a, CacheFixture.FP32_4X4, bytes).close();
      CacheKey.Content b = f.contentKey(cache, hasher, "b", bytes);
      assertEquals(a.hash(), b.hash());
      assertNull(cache.lookup(b, f.model), "group b found group a's entry");
      f.store(cache, b, CacheFixture.FP32_4X4, bytes).close();
      assertEquals(2, cache.entryCount());
      CacheKey.Content shared = f.contentKey(cache, hasher, CacheKey.SHARED, bytes);
      assertNull(cache.lookup(shared, f.model), "the shared scope found a group's entry");
      f.store(cache, shared, CacheFixture.FP32_4X4, bytes).close();
      try (Lease hit = cache.lookup(f.contentKey(cache, hasher, CacheKey.SHARED, bytes), f.model)) {
        assertNotNull(hit);
      }
      assertEquals(3, cache.entryCount());
    }
  }


  @Test
  void keepsOldBytesOfReplacedNamedEntryUntilItsLeaseCloses() throws Exception {
    byte[] first = TestBytes.pattern(CacheFixture.SIZE, 14);
    byte[] second = TestBytes.pattern(CacheFixture.SIZE, 15);
    CacheKey key = CacheKey.named("m", "prompt");
    try (InputCache cache = new InputCache(f.memory, 1 << 20)) {
      f.store(cache, key, CacheFixture.FP32_4X4, first).close();
      Lease inFlight = cache.lookup(key, f.model);
      f.store(cache, key, CacheFixture.FP32_4X4, second).close();
      try (Lease fresh = cache.lookup(key, f.model)) {
        assertArrayEquals(second, f.read(fresh));
        assertNotEquals(inFlight.address(), fresh.address());
      }
      assertArrayEquals(first, f.read(inFlight));
      assertEquals(2, f.memory.liveAllocations());
      assertEquals(1, cache.entryCount());
      inFlight.close();
      assertEquals(1, f.memory.liveAllocations());
      assertEquals(CacheFixture.SIZE, cache.residentBytes());
    }
  }


  @Test
  void keepsNamedKeysOfOneGroupAwayFromAnother() throws Exception {
    byte[] mine = TestBytes.pattern(CacheFixture.SIZE, 16);
    byte[] theirs = TestBytes.pattern(CacheFixture.SIZE, 17);
    try (InputCache cache = new InputCache(f.memory, 1 << 20)) {
      f.store(cache, CacheKey.named("group-a", "x"), CacheFixture.FP32_4X4, mine).close();
      assertNull(cache.lookup(CacheKey.named("group-b", "x"), f.model));
      f.store(cache, CacheKey.named("group-b", "x"), CacheFixture.FP32_4X4, theirs).close();
      try (Lease a = cache.lookup(CacheKey.named("group-a", "x"), f.model);
          Lease b = cache.lookup(CacheKey.named("group-b", "x"), f.model)) {
        assertArrayEquals(mine, f.read(a));
        assertArrayEquals(theirs, f.read(b));
      }
    }
  }


  @Test
  void removeGroupDropsItsNamedAndContentEntriesAndFreesThemWhenUnpinned() throws Exception {
    try (InputCache cache = new InputCache(f.memory, 1 << 20);
        ContentHasher hasher = new ContentHasher(1)) {
      f.store(cache, CacheKey.named("a", "x"), CacheFixture.FP32_4X4, TestBytes.pattern(CacheFixture.SIZE, 18)).close();
      Lease pinned = f.store(cache, CacheKey.named("a", "y"), CacheFixture.FP32_4X4, TestBytes.pattern(CacheFixture.SIZE, 19));
      f.store(cache, CacheKey.named("b", "x"), CacheFixture.FP32_4X4, TestBytes.pattern(CacheFixture.SIZE, 20)).close();
      byte[] shared = TestBytes.pattern(CacheFixture.SIZE, 21);
      f.store(cache, f.contentKey(cache, hasher, CacheKey.SHARED, shared), CacheFixture.FP32_4X4, shared).close();
      CacheKey.Content ofA = f.contentKey(cache, hasher, "a", shared);
      f.store(cache, ofA, CacheFixture.FP32_4X4, shared).close();
      assertEquals(5, cache.entryCount());

      assertEquals(2, cache.removeGroup("a"));
      assertNull(cache.lookup(CacheKey.named("a", "x"), f.model));
      assertNull(cache.lookup(CacheKey.named("a", "y"), f.model));
      assertNull(cache.lookup(ofA, f.model));
      assertEquals(2, cache.entryCount(), "b's entry and the shared content entry stay");
      assertEquals(3, f.memory.liveAllocations(), "the pinned entry waits for its lease");
      assertArrayEquals(TestBytes.pattern(CacheFixture.SIZE, 19), f.read(pinned));
      pinned.close();
      assertEquals(2, f.memory.liveAllocations());
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
              f.model);
      try (Lease stored = cache.store(key, layout, bytes.length, writer,
              address -> gpu.copyHostToDevice(address, staging.address(), bytes.length, writer),
              f.model);
          Lease hit = cache.lookup(key, f.model)) {
        hit.awaitOn(reader);
        gpu.copyDeviceToHost(back.address(), hit.address(), bytes.length, reader);
        reader.synchronize();
        writer.synchronize();
        assertEquals(stored.address(), hit.address());
      }
      byte[] result = new byte[bytes.length];
      back.get(0, result);
      assertArrayEquals(bytes, result);
      assertEquals(1, f.model.hits());
    }
  }


  @Test
  void closeFreesEveryBlockAndReportsOpenLeases() throws Exception {
    InputCache cache = new InputCache(f.memory, 1 << 20);
    f.store(cache, CacheKey.named("m", "a"), CacheFixture.FP32_4X4, TestBytes.pattern(CacheFixture.SIZE, 22)).close();
    Lease leaked = f.store(cache, CacheKey.named("m", "b"), CacheFixture.FP32_4X4, TestBytes.pattern(CacheFixture.SIZE, 23));
    Lease replacedAndLeaked = cache.lookup(CacheKey.named("m", "a"), f.model);
    f.store(cache, CacheKey.named("m", "a"), CacheFixture.FP32_4X4, TestBytes.pattern(CacheFixture.SIZE, 24)).close();
    assertEquals(3 * CacheFixture.SIZE, f.memory.liveBytes());
    IllegalStateException report = assertThrows(IllegalStateException.class, cache::close);
    assertTrue(report.getMessage().contains("open leases"), report.getMessage());
    assertEquals(0, f.memory.liveBytes());
    leaked.close(); // after close: a no-op, never a second free
    replacedAndLeaked.close();
    cache.close();
    assertThrows(IllegalStateException.class, () -> cache.lookup(CacheKey.named("m", "a"), f.model));
  }
}
