package dev.javaonnxruntime.cache;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * The bookkeeping of one {@link InputCache}: the map, each entry's last use, the pin counts, and
 * the byte budget. It decides what to evict and what to free but never touches device memory,
 * so the cache can hold its lock only around these calls and free or allocate outside it.
 *
 * <p>Accounting: {@code usedBytes} counts every block the cache holds or is allocating: entries in
 * the map, entries replaced or removed while still pinned ("detached"), and reservations of
 * stores in progress. An entry leaves the count when it is handed back for freeing.
 *
 * <p>Least recently used: a hit stamps its entry from the table's clock instead of moving it to
 * the end of an access-ordered map, so it writes no link of another entry, nor the map's ends,
 * which the other instance threads of the device wrote last (each such line costs a transfer
 * between cores on every hit). Evicting, which is rare, sorts the unpinned entries by stamp.
 *
 * <p>Not thread-safe: every method must be called holding the table's monitor, the owning cache's
 * lock (so the lock word and the fields a hit reads share one cache line). {@link #usedBytes} and
 * {@link #size} may also be read without it: they are volatile, written under the lock.
 */
final class EntryTable {
  private final String owner;
  private final long budgetBytes;
  private final HashMap<CacheKey, CacheEntry> map = new HashMap<>(64);
  private final Set<CacheEntry> detached = Collections.newSetFromMap(new IdentityHashMap<>());
  /** Counts the pins and stores: the stamp of an entry's last use. */
  private long clock;
  private volatile long usedBytes;
  private volatile int entries;
  private boolean closed;

  /** A table for {@code owner} (named in errors), holding at most {@code budgetBytes}. */
  EntryTable(String owner, long budgetBytes) {
    this.owner = owner;
    this.budgetBytes = budgetBytes;
  }

  /** Throws {@link IllegalStateException} once {@link #drain} has run. */
  void ensureOpen() {
    if (closed) {
      throw new IllegalStateException(owner + " is closed");
    }
  }

  boolean isClosed() {
    return closed;
  }

  long budgetBytes() {
    return budgetBytes;
  }

  long usedBytes() {
    return usedBytes;
  }

  int size() {
    return entries;
  }

  /** The entry under {@code key}, pinned and made most recent; null when absent. */
  CacheEntry pin(CacheKey key) {
    ensureOpen();
    CacheEntry entry = map.get(key);
    if (entry != null) {
      entry.pins++;
      entry.lastUse = ++clock;
    }
    return entry;
  }

  /**
   * Reserves {@code bytes}, evicting unpinned entries in LRU order until they fit in the budget.
   * Returns the evicted entries (to free); returns null, reserving nothing, when even evicting
   * every unpinned entry would not make room.
   */
  List<CacheEntry> reserve(long bytes) {
    ensureOpen();
    long evictable = 0;
    for (CacheEntry entry : map.values()) {
      if (entry.pins == 0) {
        evictable += entry.byteSize;
      }
    }
    long over = usedBytes + bytes - budgetBytes;
    if (over > evictable) {
      return null;
    }
    List<CacheEntry> victims = evictUnpinned(over);
    usedBytes += bytes;
    return victims;
  }

  /** Gives back a reservation whose allocation failed. */
  void unreserve(long bytes) {
    usedBytes -= bytes;
  }

  /**
   * Evicts unpinned entries in LRU order until at least {@code bytes} are evicted or none is left;
   * returns them (to free). Used when the device refuses an allocation the budget allowed.
   */
  List<CacheEntry> evictUnpinned(long bytes) {
    List<CacheEntry> unpinned = new ArrayList<>();
    for (CacheEntry entry : map.values()) {
      if (entry.pins == 0) {
        unpinned.add(entry);
      }
    }
    unpinned.sort(Comparator.comparingLong(entry -> entry.lastUse));
    List<CacheEntry> victims = new ArrayList<>();
    long evicted = 0;
    for (int i = 0; evicted < bytes && i < unpinned.size(); i++) {
      CacheEntry entry = unpinned.get(i);
      map.remove(entry.key);
      entry.inMap = false;
      markFreed(entry);
      victims.add(entry);
      evicted += entry.byteSize;
    }
    entries = map.size();
    return victims;
  }

  /**
   * Publishes a freshly written entry, pinned once for its writer. Returns the entry the writer's
   * lease must pin: the new one, or for a content key already present (a race between two stores)
   * the existing one. {@code toFree} receives entries to free: the duplicate, or a replaced named
   * entry that nobody pins.
   */
  CacheEntry publish(CacheEntry fresh, List<CacheEntry> toFree) {
    CacheEntry existing = map.get(fresh.key);
    if (existing != null && fresh.key instanceof CacheKey.Content) {
      existing.pins++;
      existing.lastUse = ++clock;
      markFreed(fresh);
      toFree.add(fresh);
      return existing;
    }
    fresh.pins = 1;
    fresh.lastUse = ++clock;
    fresh.inMap = true;
    map.put(fresh.key, fresh);
    entries = map.size();
    if (existing != null) {
      detach(existing, toFree);
    }
    return fresh;
  }

  /** Drops one pin; returns the entry when it must now be freed (detached and unpinned). */
  CacheEntry unpin(CacheEntry entry) {
    if (entry.freed) {
      return null;
    }
    entry.pins--;
    if (entry.pins == 0 && !entry.inMap) {
      detached.remove(entry);
      markFreed(entry);
      return entry;
    }
    return null;
  }

  /**
   * Removes the named entries of {@code group} and the content entries scoped to it (not the
   * shared ones); the unpinned ones go to {@code toFree}. Returns the number of named entries.
   */
  int removeGroup(String group, List<CacheEntry> toFree) {
    ensureOpen();
    int removed = 0;
    Iterator<CacheEntry> it = map.values().iterator();
    while (it.hasNext()) {
      CacheEntry entry = it.next();
      boolean named = entry.key instanceof CacheKey.Named n && n.group().equals(group);
      if (named || entry.key instanceof CacheKey.Content c && c.scope().equals(group)) {
        it.remove();
        detach(entry, toFree);
        removed += named ? 1 : 0;
      }
    }
    entries = map.size();
    return removed;
  }

  /**
   * Closes the table and empties it; every entry goes to {@code toFree}; returns those still
   * pinned. Later calls to pin, reserve or removeGroup throw.
   */
  List<CacheEntry> drain(List<CacheEntry> toFree) {
    closed = true;
    List<CacheEntry> leaked = new ArrayList<>();
    List<CacheEntry> all = new ArrayList<>(map.values());
    all.addAll(detached);
    map.clear();
    entries = 0;
    detached.clear();
    for (CacheEntry entry : all) {
      if (entry.pins > 0) {
        leaked.add(entry);
      }
      entry.inMap = false;
      markFreed(entry);
      toFree.add(entry);
    }
    return leaked;
  }

  private void detach(CacheEntry entry, List<CacheEntry> toFree) {
    entry.inMap = false;
    if (entry.pins == 0) {
      markFreed(entry);
      toFree.add(entry);
    } else {
      detached.add(entry);
    }
  }

  private void markFreed(CacheEntry entry) {
    entry.freed = true;
    usedBytes -= entry.byteSize;
  }
}
