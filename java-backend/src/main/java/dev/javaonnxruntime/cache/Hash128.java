package dev.javaonnxruntime.cache;

/**
 * A 128-bit content hash (XXH3-128, or the chunk tree of it that {@link ContentHasher} builds for
 * large inputs). An immutable value: equal bits, equal hash; safe to share between threads.
 *
 * @param high the high 64 bits
 * @param low the low 64 bits
 */
public record Hash128(long high, long low) {
  @Override
  public String toString() {
    return String.format("%016x%016x", high, low);
  }
}
