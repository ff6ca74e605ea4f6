package dev.javaonnxruntime.cache;

import dev.javaonnxruntime.cuda.Fence;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One cached input in device memory: the block, its layout, the fence after its copy, and the
 * count of open leases.
 *
 * <p>Ownership: the {@link InputCache} owns the block and the fence and frees both once the entry
 * has left the map and no lease pins it. The mutable fields are guarded by the cache's lock; the
 * final fields may be read by lease holders without it.
 */
final class CacheEntry {
  private static final AtomicLong IDS = new AtomicLong();

  /**
   * Unique among the entries of every cache of this backend start, never reused: an entry's
   * bytes never change once stored (a named key's new data is a new entry), so its id names
   * those bytes even after the entry is gone.
   */
  final long id = IDS.incrementAndGet();
  final CacheKey key;
  final TensorLayout layout;
  final long address;
  final long byteSize;
  /** Set once, before the entry is published; read after. */
  Fence fence;
  int pins;
  /** The table's clock at the entry's last pin or store: the least recently used goes first. */
  long lastUse;
  boolean inMap;
  boolean freed;

  CacheEntry(CacheKey key, TensorLayout layout, long address, long byteSize) {
    this.key = key;
    this.layout = layout;
    this.address = address;
    this.byteSize = byteSize;
  }

  @Override
  public String toString() {
    return key + " (" + byteSize + " bytes, " + pins + " leases)";
  }
}
