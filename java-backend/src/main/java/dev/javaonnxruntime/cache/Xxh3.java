package dev.javaonnxruntime.cache;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * Native XXH3-128 (xxHash 0.8.x) over host memory, through {@code xxh3_multi.h}: keyed with a
 * secret ({@code XXH3_128bits_withSecret} and its streaming form), or plain with seed 0.
 *
 * <p>Why it exists: the cache keys inputs by the hash of their bytes, and hashing runs on every
 * request, so it must be fast: the header compiles xxHash inline for AVX2, chosen at run time
 * (about seven times the speed of a pure-Java XXH3), and falls back to libxxhash's baseline build
 * on CPUs without AVX2. Only xxHash's public API is used, so the build works with libxxhash-dev
 * 0.8.1 (Debian 12) and 0.8.2 (Ubuntu 24.04) alike, and the hashes are the same in both. JavaCPP
 * generates the JNI glue; the javacpp Maven plugin builds {@code libjniXxh3.so} from this class,
 * with {@code libxxhash.a} linked in statically, so nothing of libxxhash is needed at run time.
 * The cache always hashes keyed ({@link ContentHasher} draws the secret); the plain hash is
 * there for the reference values in the tests and to show that a keyed hash differs from it.
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

  /** The shortest secret XXH3 accepts ({@code XXH3_SECRET_SIZE_MIN}). */
  static final int SECRET_SIZE_MIN = secretSizeMin();

  private Xxh3() {}

  /**
   * Hashes the concatenation of {@code count} buffers with plain XXH3-128 (seed 0); writes high
   * and low 64 bits to {@code out[0]} and {@code out[1]}. Equal to the hash of the same bytes in
   * one buffer.
   */
  static void hash128(long[] addresses, long[] lengths, int count, long[] out) {
    multi(addresses, lengths, count, null, 0, out);
  }

  /** As {@link #hash128(long[], long[], int, long[])}, keyed with {@code secret}. */
  static void hash128(long[] addresses, long[] lengths, int count, byte[] secret, long[] out) {
    multi(addresses, lengths, count, checked(secret), secret.length, out);
  }

  /**
   * As {@link #hash128}, always on the baseline path (libxxhash.a, SSE2), whatever the CPU: lets
   * the tests check on an AVX2 machine that both paths give the same hash; {@code secret} null
   * for the plain hash.
   */
  static void hash128Baseline(
      long[] addresses, long[] lengths, int count, byte[] secret, long[] out) {
    baselineMulti(
        addresses, lengths, count, secret == null ? null : checked(secret),
        secret == null ? 0 : secret.length, out);
  }

  /** Hashes the bytes of {@code values[0..count)} in native byte order, keyed; output as above. */
  static void hash128Longs(long[] values, int count, byte[] secret, long[] out) {
    longs(values, count, checked(secret), secret.length, out);
  }

  /** Returns true when this CPU runs the AVX2 path (false: the baseline, libxxhash.a's SSE2). */
  static boolean usesAvx2() {
    return usesAvx2Native() != 0;
  }

  private static byte[] checked(byte[] secret) {
    if (secret.length < SECRET_SIZE_MIN) {
      throw new IllegalArgumentException(
          "an XXH3 secret needs at least " + SECRET_SIZE_MIN + " bytes, got " + secret.length);
    }
    return secret;
  }

  @Name("jor_xxh3_128_multi")
  private static native void multi(
      @Cast("const int64_t*") long[] addresses,
      @Cast("const int64_t*") long[] lengths,
      int count,
      @Cast("const void*") byte[] secret,
      int secretSize,
      @Cast("int64_t*") long[] out);

  @Name("jor_xxh3_baseline_multi")
  private static native void baselineMulti(
      @Cast("const int64_t*") long[] addresses,
      @Cast("const int64_t*") long[] lengths,
      int count,
      @Cast("const void*") byte[] secret,
      int secretSize,
      @Cast("int64_t*") long[] out);

  @Name("jor_xxh3_128_longs")
  private static native void longs(
      @Cast("const int64_t*") long[] values,
      int count,
      @Cast("const void*") byte[] secret,
      int secretSize,
      @Cast("int64_t*") long[] out);

  @Name("jor_xxh3_uses_avx2")
  private static native int usesAvx2Native();

  @Name("jor_xxh3_secret_size_min")
  private static native int secretSizeMin();
}
