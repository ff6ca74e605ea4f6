package dev.javaonnxruntime.cache;

import dev.javaonnxruntime.cuda.DeviceAllocationException;
import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.lifecycle.Closer;
import java.util.List;

/**
 * The device-memory side of one {@link InputCache}: makes room (reserve, evict, allocate, and on
 * a refusal evict more and retry) and frees entries with their fences.
 *
 * <p>Why separate: the cache's lock guards only the {@link EntryTable}; everything here that
 * talks to the device runs outside it. Owned by its cache, which shares its lock and table with
 * it. Thread-safe under that discipline.
 */
final class CacheMemory {
  private final DeviceMemory memory;
  private final EntryTable table;
  private final Object lock;
  private final CacheStats deviceStats;

  CacheMemory(DeviceMemory memory, EntryTable table, Object lock, CacheStats deviceStats) {
    this.memory = memory;
    this.table = table;
    this.lock = lock;
    this.deviceStats = deviceStats;
  }

  /**
   * Allocates {@code bytes} within the budget, evicting unpinned entries (counted for {@code
   * model} and the device) as needed.
   *
   * @throws CacheCapacityException when pinned entries leave no room or the device refuses even
   *     after every unpinned entry is gone; nothing stays reserved then
   */
  long allocate(long bytes, CacheStats model) throws CacheCapacityException {
    List<CacheEntry> victims;
    synchronized (lock) {
      victims = table.reserve(bytes);
    }
    if (victims == null) {
      throw new CacheCapacityException(
          "input cache of device " + memory.deviceId() + " cannot hold " + bytes + " more bytes: "
              + "open leases pin the rest of its budget of " + table.budgetBytes() + " bytes",
          null);
    }
    evicted(victims, model);
    while (true) {
      try {
        return memory.allocate(bytes);
      } catch (DeviceAllocationException refused) {
        synchronized (lock) {
          victims = table.evictUnpinned(bytes);
          if (victims.isEmpty()) {
            table.unreserve(bytes);
          }
        }
        if (victims.isEmpty()) {
          throw new CacheCapacityException(
              "device " + memory.deviceId() + " has no room for a " + bytes + "-byte input even "
                  + "after evicting every unpinned cache entry: " + refused.getMessage(),
              refused);
        }
        evicted(victims, model);
      }
    }
  }

  /** Undoes {@link #allocate} for an entry whose writer failed; waits for its stream first. */
  void abandon(CacheEntry fresh, Stream stream, Throwable failure) {
    try {
      stream.synchronize();
    } catch (RuntimeException e) {
      failure.addSuppressed(e);
    }
    synchronized (lock) {
      table.unreserve(fresh.byteSize);
    }
    free(fresh);
  }

  /** Frees entries the table has handed back, each even when another fails. */
  void freeAll(List<CacheEntry> entries) {
    Closer closer = new Closer("cache.free");
    for (CacheEntry entry : entries) {
      closer.run("entry", () -> free(entry));
    }
    closer.finish();
  }

  /** Frees one entry's fence and block (the block even when the fence fails). */
  void free(CacheEntry entry) {
    Closer closer = new Closer("cache.free");
    closer.close("fence", entry.fence);
    closer.run("block", () -> memory.free(entry.address));
    closer.finish();
  }

  private void evicted(List<CacheEntry> victims, CacheStats model) {
    if (!victims.isEmpty()) {
      freeAll(victims);
      model.recordEvictions(victims.size());
      deviceStats.recordEvictions(victims.size());
    }
  }
}
