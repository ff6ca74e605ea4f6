package dev.javaonnxruntime.cache;

import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.cuda.Stream;
import java.util.ArrayList;
import java.util.List;

/**
 * The inputs resident on one device, for every model and instance on it: an input that is already
 * there is served by address instead of being copied from the host again. Entries are scoped by
 * their key ({@link CacheKey}): a cache group sees only its own entries and the shared content
 * space it opted into.
 *
 * <p>Ownership: the backend-level state creates one cache per GPU (and one in host memory for all
 * KIND_CPU instances), hands it to instances in their constructors, and closes it at backend
 * finalize. The cache owns every block it allocates through its {@link DeviceMemory}; a block is
 * freed when its entry has been evicted, replaced or removed and no {@link Lease} pins it.
 *
 * <p>Budget: at most {@code budgetBytes} of device memory (config {@code input-cache-bytes});
 * unpinned entries are evicted least recently used first; an input larger than the whole budget
 * is not cached ({@link #admits}). If the device refuses an allocation the budget allowed, more
 * entries are evicted and the allocation retried.
 *
 * <p>Thread-safe: several instance threads call it at once. One lock, the table's monitor, guards
 * the bookkeeping only; allocation, the caller's copy, and frees run outside it. A hit writes
 * nothing that other threads share but that lock and its entry: hits, misses and hashing are
 * counted per model ({@link CacheStats} the caller passes), the device's own counters hold what
 * only the device knows (stores, evictions).
 */
public final class InputCache implements AutoCloseable {
  /** Fills a freshly allocated entry: enqueues the copy of the input to {@code deviceAddress}. */
  @FunctionalInterface
  public interface Writer {
    /** Copies the input's bytes to {@code deviceAddress} on the stream given to the store. */
    void write(long deviceAddress);
  }

  private final DeviceMemory memory;
  private final EntryTable table;
  private final CacheStats deviceStats = new CacheStats();
  private final Object lock;
  private final CacheMemory blocks;

  /** A cache of at most {@code budgetBytes} in {@code memory}. */
  public InputCache(DeviceMemory memory, long budgetBytes) {
    if (budgetBytes < 0) {
      throw new IllegalArgumentException("input-cache-bytes must be >= 0, got " + budgetBytes);
    }
    this.memory = memory;
    this.table = new EntryTable("input cache of device " + memory.deviceId(), budgetBytes);
    this.lock = table;
    this.blocks = new CacheMemory(memory, table, lock, deviceStats);
  }

  /** The device this cache lives on (-1: host memory). */
  public int deviceId() {
    return memory.deviceId();
  }

  /** Whether an input of {@code byteSize} can be cached at all (0 &lt; size &le; budget). */
  public boolean admits(long byteSize) {
    return byteSize > 0 && byteSize <= table.budgetBytes();
  }

  /**
   * Hashes {@code input} into a content key in {@code scope} (the model's cache group, or {@link
   * CacheKey#SHARED}), counting the time for the model. The buffers must be host
   * memory and stay valid during the call.
   */
  public CacheKey.Content contentKey(
      ContentHasher hasher,
      String scope,
      HostBuffers input,
      TensorLayout layout,
      CacheStats model) {
    long start = System.nanoTime();
    Hash128 hash = hasher.hash(input);
    long nanos = System.nanoTime() - start;
    model.recordHash(nanos, input.totalLength());
    return CacheKey.content(scope, hash, layout);
  }

  /** Returns a pinned lease on the entry under {@code key}, or null on a miss. */
  public Lease lookup(CacheKey key, CacheStats model) {
    CacheEntry entry;
    synchronized (lock) {
      entry = table.pin(key);
    }
    if (entry == null) {
      model.recordMiss();
      return null;
    }
    model.recordHit(entry.byteSize);
    return new Lease(this, entry);
  }

  /**
   * Allocates {@code byteSize} bytes, lets {@code writer} enqueue the copy on {@code stream},
   * publishes the entry and returns a pinned lease on it. A named key replaces the entry it names
   * (the old memory is freed when its last lease closes); a content key already present (another
   * instance stored it meanwhile) returns the existing entry. Returns null without calling the
   * writer when {@link #admits} is false.
   *
   * @throws CacheCapacityException when no room can be made; only this request is affected
   */
  public Lease store(
      CacheKey key,
      TensorLayout layout,
      long byteSize,
      Stream stream,
      Writer writer,
      CacheStats model)
      throws CacheCapacityException {
    if (key instanceof CacheKey.Content content && !content.layout().equals(layout)) {
      throw new IllegalArgumentException(
          "content key of layout " + content.layout() + " stored with layout " + layout);
    }
    if (!admits(byteSize)) {
      return null;
    }
    if (key instanceof CacheKey.Content) {
      Lease present = pinIfPresent(key);
      if (present != null) {
        return present;
      }
    }
    long address = blocks.allocate(byteSize, model);
    CacheEntry fresh = new CacheEntry(key, layout, address, byteSize);
    try {
      writer.write(address);
      fresh.fence = memory.recordFence(stream);
    } catch (RuntimeException | Error e) {
      blocks.abandon(fresh, stream, e);
      throw e;
    }
    List<CacheEntry> toFree = new ArrayList<>(1);
    CacheEntry pinned;
    synchronized (lock) {
      if (table.isClosed()) {
        table.unreserve(fresh.byteSize);
        toFree.add(fresh);
        pinned = null;
      } else {
        pinned = table.publish(fresh, toFree);
      }
    }
    if (toFree.contains(fresh)) {
      stream.synchronize(); // our copy may still be writing into the block we are about to free
    }
    blocks.freeAll(toFree);
    if (pinned == null) {
      throw new IllegalStateException("input cache of device " + deviceId() + " is closed");
    }
    if (pinned == fresh) {
      model.recordStore();
      deviceStats.recordStore();
    }
    return new Lease(this, pinned);
  }

  /**
   * Drops the named entries of {@code group} and its content entries (the last model of the group
   * unloaded); pinned ones go when unpinned. Returns the number of named entries dropped.
   */
  public int removeGroup(String group) {
    List<CacheEntry> toFree = new ArrayList<>();
    int removed;
    synchronized (lock) {
      removed = table.removeGroup(group, toFree);
    }
    blocks.freeAll(toFree);
    return removed;
  }

  /** Device-wide counters: stores and evictions (hits and misses are the models'). */
  public CacheStats deviceStats() {
    return deviceStats;
  }

  /** Device memory held by the cache, in bytes (entries, pinned leftovers, stores in progress). */
  public long residentBytes() {
    return table.usedBytes(); // volatile: the metrics read it after every Execute, lock-free
  }

  /** Entries that lookups can find. */
  public int entryCount() {
    return table.size();
  }

  /**
   * Frees every block. All leases should be closed by now (every model is unloaded); if some are
   * not, their memory is freed anyway and this throws {@link IllegalStateException} naming them.
   * Closing twice is safe.
   */
  @Override
  public void close() {
    List<CacheEntry> toFree = new ArrayList<>();
    List<CacheEntry> leaked;
    synchronized (lock) {
      if (table.isClosed()) {
        return;
      }
      leaked = table.drain(toFree);
    }
    blocks.freeAll(toFree);
    if (!leaked.isEmpty()) {
      throw new IllegalStateException(
          "input cache of device " + deviceId() + " closed with open leases on " + leaked);
    }
  }

  /** Called by {@link Lease#close()}. */
  void release(CacheEntry entry) {
    CacheEntry toFree;
    synchronized (lock) {
      toFree = table.unpin(entry);
    }
    if (toFree != null) {
      blocks.free(toFree);
    }
  }

  private Lease pinIfPresent(CacheKey key) {
    CacheEntry entry;
    synchronized (lock) {
      entry = table.pin(key);
    }
    return entry == null ? null : new Lease(this, entry);
  }
}
