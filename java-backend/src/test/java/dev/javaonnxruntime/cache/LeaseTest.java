package dev.javaonnxruntime.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.javaonnxruntime.cuda.HostBuffer;
import dev.javaonnxruntime.cuda.HostMemory;
import dev.javaonnxruntime.cuda.HostStream;
import org.junit.jupiter.api.Test;

class LeaseTest {
  private static final TensorLayout LAYOUT = new TensorLayout("UINT8", new long[] {32});

  private final HostMemory memory = new HostMemory();
  private final CacheStats model = new CacheStats();

  private Lease store(InputCache cache, CacheKey key) throws CacheCapacityException {
    try (HostBuffer source = TestBytes.hostCopy(TestBytes.pattern(32, 1))) {
      return cache.store(key, LAYOUT, 32, HostStream.INSTANCE,
          address -> memory.copyHostToDevice(address, source.address(), 32, HostStream.INSTANCE),
          model);
    }
  }

  @Test
  void unpinsOnlyOnceWhenClosedTwice() throws Exception {
    CacheKey key = CacheKey.named("m", "x");
    try (InputCache cache = new InputCache(memory, 1024)) {
      Lease first = store(cache, key);
      Lease second = cache.lookup(key, model);
      first.close();
      first.close();
      store(cache, key).close(); // replaces the entry both leases pinned
      assertEquals(2, memory.liveAllocations(), "second still pins the old entry");
      second.close();
      assertEquals(1, memory.liveAllocations());
    }
    assertEquals(0, memory.liveBytes());
  }

  @Test
  void refusesAccessAfterClose() throws Exception {
    try (InputCache cache = new InputCache(memory, 1024)) {
      Lease lease = store(cache, CacheKey.named("m", "x"));
      lease.close();
      assertThrows(IllegalStateException.class, lease::address);
      assertThrows(IllegalStateException.class, lease::byteSize);
      assertThrows(IllegalStateException.class, () -> lease.awaitOn(HostStream.INSTANCE));
    }
  }
}
