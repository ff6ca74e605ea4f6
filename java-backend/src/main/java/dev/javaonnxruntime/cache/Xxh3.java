package dev.javaonnxruntime.cache;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * Native XXH3-128 (xxHash 0.8.x, seed 0) over host memory, through {@code xxh3_multi.h}.
 *
 * <p>Why it exists: the cache keys inputs by the hash of their bytes, and hashing runs on every
 * request, so it must be fast: the header compiles xxHash inline for AVX2, chosen at run time
 * (about seven times the speed of a pure-Java XXH3), and falls back to libxxhash's baseline build
 * on CPUs without AVX2. Only xxHash's public API is used, so the build works with libxxhash-dev
 * 0.8.1 (Debian 12) and 0.8.2 (Ubuntu 24.04) alike, and the hashes are the same in both. JavaCPP
 * generates the JNI glue; the javacpp Maven plugin builds {@code libjniXxh3.so} from this class,
 * with {@code libxxhash.a} linked in statically, so nothing of libxxhash is needed at run time.
 *
 * <p>Ownership: the methods read the host buffers named by the caller, who keeps them alive for
 * the call; nothing is retained. Addresses are raw and unchecked: a wrong address crashes the
 * process, which is why this class is package-private and reached through {@link ContentHasher}.
 * Thread-safe: every method is reentrant.
 */
@Platform(include = "xxh3_multi.h", link = ":libxxhash.a")
final class Xxh3 {
  static {
    Loader.load();
  }

  private Xxh3() {}

  /**
   * Hashes the concatenation of {@code count} buffers; writes high and low 64 bits to {@code
   * out[0]} and {@code out[1]}. Equal to the hash of the same bytes in one buffer.
   */
  @Name("jor_xxh3_128_multi")
  static native void hash128(
      @Cast("const int64_t*") long[] addresses,
      @Cast("const int64_t*") long[] lengths,
      int count,
      @Cast("int64_t*") long[] out);

  /**
   * As {@link #hash128}, always on the baseline path (libxxhash.a, SSE2), whatever the CPU: lets
   * the tests check on an AVX2 machine that both paths give the same hash.
   */
  @Name("jor_xxh3_baseline_multi")
  static native void hash128Baseline(
      @Cast("const int64_t*") long[] addresses,
      @Cast("const int64_t*") long[] lengths,
      int count,
      @Cast("int64_t*") long[] out);

  /** Hashes the bytes of {@code values[0..count)} in native byte order; output as above. */
  @Name("jor_xxh3_128_longs")
  static native void hash128Longs(
      @Cast("const int64_t*") long[] values, int count, @Cast("int64_t*") long[] out);

  /** Returns true when this CPU runs the AVX2 path (false: the baseline, libxxhash.a's SSE2). */
  static boolean usesAvx2() {
    return usesAvx2Native() != 0;
  }

  @Name("jor_xxh3_uses_avx2")
  private static native int usesAvx2Native();
}
