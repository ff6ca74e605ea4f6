package dev.javaonnxruntime.cache;

import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.lifecycle.Faults;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A pin on one cached input: while it is open the entry's device memory is neither evicted nor
 * freed, even if the entry is replaced or its group removed.
 *
 * <p>Why it exists: an inference reads cached inputs asynchronously on its stream; the caller
 * closes its leases only after synchronising that stream (once per Execute). Before enqueuing a
 * read on a stream, call {@link #awaitOn} so that the read waits for the copy that filled the
 * entry, which may still be running on the storing instance's stream.
 *
 * <p>Ownership: a view; the cache owns the memory. Closing is idempotent and thread-safe; the
 * accessors throw {@link IllegalStateException} once the lease is closed.
 */
public final class Lease implements AutoCloseable {
  private final InputCache cache;
  private final CacheEntry entry;
  private final AtomicBoolean closed = new AtomicBoolean();

  Lease(InputCache cache, CacheEntry entry) {
    this.cache = cache;
    this.entry = entry;
  }

  /** The device address of the bytes. */
  public long address() {
    ensureOpen();
    return entry.address;
  }

  /** The size of the bytes. */
  public long byteSize() {
    ensureOpen();
    return entry.byteSize;
  }

  /** The data type and shape the entry was stored with (check it for a named key). */
  public TensorLayout layout() {
    ensureOpen();
    return entry.layout;
  }

  /**
   * The entry's id: equal ids, equal bytes. A copy of an entry's bytes holds them still when
   * the entry is gone, so a copy made under this id needs no redoing for the same id.
   */
  public long entryId() {
    return entry.id;
  }

  /** The key the entry is stored under. */
  public CacheKey key() {
    return entry.key;
  }

  /** Makes later work on {@code stream} wait until the bytes of this entry are on the device. */
  public void awaitOn(Stream stream) {
    ensureOpen();
    entry.fence.awaitOn(stream);
  }

  /**
   * Unpins the entry (after the stream work that reads it has completed); the entry's memory is
   * freed now when it was replaced, evicted or removed meanwhile. A second close does nothing,
   * even when the first threw. The fault seam's step {@code lease.close} fails it after the unpin.
   */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      cache.release(entry);
      Faults.at("lease.close");
    }
  }

  private void ensureOpen() {
    if (closed.get()) {
      throw new IllegalStateException("lease on " + entry.key + " is closed");
    }
  }
}
