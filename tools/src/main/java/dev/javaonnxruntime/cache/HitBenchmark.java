package dev.javaonnxruntime.cache;

import dev.javaonnxruntime.cuda.HostBuffer;
import dev.javaonnxruntime.cuda.HostMemory;
import dev.javaonnxruntime.cuda.Stream;
import java.util.Random;

/**
 * Prints the CPU cost of a cache hit, the figure the goals name: a named-key hit (lookup
 * and release of the lease) and a content hit at 602,112 bytes (XXH3-128 of the bytes, lookup,
 * release), on the host-memory cache. The device does not take part in a hit, so the CPU cost is
 * the same for a GPU cache. A tool, not a test: never asserted.
 *
 * <p>Run: {@code java -cp <jars> dev.javaonnxruntime.cache.HitBenchmark}. Owns and closes what it
 * allocates.
 */
public final class HitBenchmark {
  private static final int SIZE = 602_112;
  private static final int ROUNDS = 200_000;

  private HitBenchmark() {}

  /** Runs the benchmark. */
  public static void main(String[] args) throws Exception {
    HostMemory memory = new HostMemory();
    try (HostBuffer input = new HostBuffer(SIZE);
        InputCache cache = new InputCache(memory, 64L << 20);
        ContentHasher hasher = new ContentHasher(1);
        Stream stream = memory.newStream()) {
      byte[] bytes = new byte[SIZE];
      new Random(7).nextBytes(bytes);
      input.put(0, bytes);
      CacheStats stats = new CacheStats();
      TensorLayout layout = new TensorLayout("FP32", new long[] {1, 3, 224, 224});
      HostBuffers buffers = HostBuffers.single(input.address(), SIZE);
      CacheKey named = CacheKey.named("model", "image-1");
      CacheKey content = cache.contentKey(hasher, "model", buffers, layout, stats);
      long src = input.address();
      cache.store(named, layout, SIZE, stream, dst -> memory.copyHostToDevice(dst, src, SIZE, stream), stats).close();
      cache.store(content, layout, SIZE, stream, dst -> memory.copyHostToDevice(dst, src, SIZE, stream), stats).close();

      double namedUs = measure(() -> {
        try (Lease lease = cache.lookup(named, stats)) {
          if (lease == null) {
            throw new IllegalStateException("named entry missing");
          }
        }
      });
      double contentUs = measure(() -> {
        try (Lease lease = cache.lookup(cache.contentKey(hasher, "model", buffers, layout, stats), stats)) {
          if (lease == null) {
            throw new IllegalStateException("content entry missing");
          }
        }
      });
      System.out.printf("named-key hit: %.2f us per input (goal <= 2 us)%n", namedUs);
      System.out.printf("content hit at %,d bytes: %.2f us per input (goal <= 14 us)%n", SIZE, contentUs);
    }
  }

  /** Median of 5 rounds after a warm-up, in microseconds per call. */
  private static double measure(Runnable hit) {
    int reps = ROUNDS / 10;
    for (int i = 0; i < reps; i++) {
      hit.run();
    }
    double[] rounds = new double[5];
    for (int r = 0; r < rounds.length; r++) {
      long start = System.nanoTime();
      for (int i = 0; i < reps; i++) {
        hit.run();
      }
      rounds[r] = (System.nanoTime() - start) / 1000.0 / reps;
    }
    java.util.Arrays.sort(rounds);
    return rounds[2];
  }
}
