package dev.javaonnxruntime.cache;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of the input cache: one set per device (inside each {@link InputCache}) and one per
 * model (created by the model state and passed to every lookup and store).
 *
 * <p>Why it exists: the cache is worth its memory only if hits happen; these figures are what the
 * backend publishes as Triton metrics and what tests assert. Resident bytes and entry count are
 * per device and live on {@link InputCache}. Thread-safe: counters are {@link LongAdder}s, cheap
 * to bump from many instance threads; a reading is not an atomic snapshot of all counters.
 */
public final class CacheStats {
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder bytesNotCopied = new LongAdder();
  private final LongAdder stores = new LongAdder();
  private final LongAdder evictions = new LongAdder();
  private final LongAdder hashNanos = new LongAdder();
  private final LongAdder hashedBytes = new LongAdder();

  /** Lookups that found an entry. */
  public long hits() {
    return hits.sum();
  }

  /** Lookups that found nothing. */
  public long misses() {
    return misses.sum();
  }

  /** Bytes served from the cache instead of copied to the device (the size of each hit). */
  public long bytesNotCopied() {
    return bytesNotCopied.sum();
  }

  /** Entries written into the cache. */
  public long stores() {
    return stores.sum();
  }

  /** Entries evicted to make room (for a model: by its stores). */
  public long evictions() {
    return evictions.sum();
  }

  /** Time spent hashing input bytes, in nanoseconds. */
  public long hashNanos() {
    return hashNanos.sum();
  }

  /** Input bytes hashed. */
  public long hashedBytes() {
    return hashedBytes.sum();
  }

  void recordHit(long bytes) {
    hits.increment();
    bytesNotCopied.add(bytes);
  }

  void recordMiss() {
    misses.increment();
  }

  void recordStore() {
    stores.increment();
  }

  void recordEvictions(int count) {
    evictions.add(count);
  }

  void recordHash(long nanos, long bytes) {
    hashNanos.add(nanos);
    hashedBytes.add(bytes);
  }

  @Override
  public String toString() {
    return "hits=" + hits() + " misses=" + misses() + " bytesNotCopied=" + bytesNotCopied()
        + " stores=" + stores() + " evictions=" + evictions() + " hashNanos=" + hashNanos();
  }
}
