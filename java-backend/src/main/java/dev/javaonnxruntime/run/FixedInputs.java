package dev.javaonnxruntime.run;

import java.util.Arrays;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * The fixed input buffers of one captured shape, and which cache entries' bytes each holds.
 *
 * <p>Why it exists: a graph replays on its fixed buffers, so each batch's inputs are copied into
 * them first, device to device from the cache. Where a buffer already holds the bytes of the
 * same entries, in the same order (the same image replayed, or a batch of one key), that copy
 * would write what is there: it is left out. An entry's bytes never change, and its id is never
 * reused ({@link dev.javaonnxruntime.cache.Lease#entryId}), so the copy stays good after the
 * entry is evicted; a buffer written with a request's own bytes, or overwritten by anything else
 * ({@link #scratch}), holds nothing known, and the next batch fills it.
 *
 * <p>Not thread-safe: used by one instance's execute thread, in stream order.
 */
final class FixedInputs {
  private final long[] addresses;
  /** Per buffer: the entry ids whose bytes it holds, in order; null where not known. */
  private final long[][] held;

  FixedInputs(List<Long> addresses) {
    this.addresses = addresses.stream().mapToLong(Long::longValue).toArray();
    this.held = new long[this.addresses.length][];
  }

  /**
   * Makes buffer {@code index} hold the batch's input: {@code filler} writes it at the buffer's
   * address, unless the buffer holds the entries {@code entryIds} already (null: the bytes are
   * the requests' own, always written). Returns whether it wrote. When {@code filler} throws, the
   * buffer holds nothing known.
   */
  boolean fill(int index, long[] entryIds, LongConsumer filler) {
    if (entryIds != null && Arrays.equals(held[index], entryIds)) {
      return false;
    }
    held[index] = null;
    filler.accept(addresses[index]);
    held[index] = entryIds;
    return true;
  }

  /** Something else wrote the buffers (the zeroed check): none holds anything known. */
  void scratch() {
    Arrays.fill(held, null);
  }
}
