package dev.javaonnxruntime.cache;

import dev.javaonnxruntime.cuda.HostBuffer;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * Prints the hashing throughput in GB/s: native XXH3-128 on one thread, plain (seed 0) and keyed
 * with a random secret as the cache hashes, at 602,112 bytes (one 3x224x224 float32 image) and
 * 12.6 MB (the input sizes that motivated the cache), and {@link ContentHasher} at both sizes
 * (12.6 MB: the chunked parallel hash). A tool, not a test: timings vary by
 * machine and are never asserted.
 *
 * <p>Run: {@code java -cp <classes and JavaCPP jars> dev.javaonnxruntime.cache.HashBenchmark
 * [threads]}. Owns its buffers and hasher and closes them before returning.
 */
public final class HashBenchmark {
  private HashBenchmark() {}

  /**
   * Runs the benchmark; the optional arguments are the hasher's thread count (default 4) and its
   * helpers' spin in microseconds (default 0: they park at once).
   */
  public static void main(String[] args) {
    int threads = args.length > 0 ? Integer.parseInt(args[0]) : 4;
    long spin = args.length > 1 ? Long.parseLong(args[1]) : 0;
    System.out.println("XXH3 AVX2 path: " + Xxh3.usesAvx2() + "; helpers spin " + spin + " us");
    long[] sizes = {602_112L, 12_600_000L};
    try (HostBuffer buffer = new HostBuffer(sizes[1]);
        ContentHasher hasher = new ContentHasher(threads, spin * 1000)) {
      byte[] random = new byte[(int) sizes[1]];
      new Random(42).nextBytes(random);
      buffer.put(0, random);
      byte[] secret = new byte[ContentHasher.SECRET_BYTES];
      new Random(43).nextBytes(secret);
      for (long size : sizes) {
        long[] addresses = {buffer.address()};
        long[] lengths = {size};
        double plain = measure(size, () -> Xxh3.hash128(addresses, lengths, 1, new long[2]));
        System.out.printf("native XXH3-128 plain, 1 thread, %,d bytes: %.1f GB/s%n", size, plain);
        double keyed =
            measure(size, () -> Xxh3.hash128(addresses, lengths, 1, secret, new long[2]));
        System.out.printf("native XXH3-128 keyed, 1 thread, %,d bytes: %.1f GB/s%n", size, keyed);
      }
      for (long size : sizes) {
        HostBuffers input = HostBuffers.single(buffer.address(), size);
        double gbps = measure(size, () -> hasher.hash(input));
        System.out.printf("ContentHasher (keyed), %d threads, %,d bytes%s: %.1f GB/s, %.1f us%n",
            threads, size, size >= ContentHasher.PARALLEL_THRESHOLD ? " (chunked)" : "", gbps,
            size / gbps / 1e3);
      }
      // As Triton's HTTP server may hand the body over: in 4 KiB pieces.
      int pieces = (int) ((sizes[0] + 4095) / 4096);
      long[] addresses = new long[pieces];
      long[] lengths = new long[pieces];
      for (int i = 0; i < pieces; i++) {
        addresses[i] = buffer.address() + i * 4096L;
        lengths[i] = Math.min(4096, sizes[0] - i * 4096L);
      }
      HostBuffers split = HostBuffers.of(addresses, lengths);
      double gbps = measure(sizes[0], () -> hasher.hash(split));
      System.out.printf("ContentHasher (keyed), %d threads, %,d bytes in %d buffers: %.1f GB/s, "
          + "%.1f us%n", threads, sizes[0], pieces, gbps, sizes[0] / gbps / 1e3);
      // As in the server: another thread (Triton's HTTP thread) has just written the bytes.
      HostBuffers fresh = HostBuffers.single(buffer.address(), sizes[0]);
      Runnable hash = () -> hasher.hash(fresh);
      double[] us = afterAnotherThreadWrote(buffer, sizes[0], hash, 0, null);
      System.out.printf("ContentHasher (keyed), %d threads, %,d bytes just written by another "
          + "thread: median %.1f us, p90 %.1f us%n", threads, sizes[0], us[0], us[1]);
      // As an instance thread in the server: idle 1 ms since its last request, then it hashes;
      // and the same with its helpers woken 15 us before, as an Execute wakes them before it
      // reads its requests.
      us = afterAnotherThreadWrote(buffer, sizes[0], hash, 1_000_000, null);
      System.out.printf("ContentHasher (keyed), %d threads, %,d bytes just written, 1 ms after "
          + "the last hash: median %.1f us, p90 %.1f us%n", threads, sizes[0], us[0], us[1]);
      us = afterAnotherThreadWrote(buffer, sizes[0], hash, 1_000_000,
          () -> hasher.wake(sizes[0]));
      System.out.printf("ContentHasher (keyed), %d threads, %,d bytes just written, 1 ms after "
          + "the last hash, helpers woken 15 us before: median %.1f us, p90 %.1f us%n",
          threads, sizes[0], us[0], us[1]);
    }
  }

  /**
   * Median and p90 microseconds of {@code hash} over 2,000 rounds, each right after another
   * thread wrote new bytes over the first {@code bytes} of {@code buffer} (so they sit in that
   * thread's core's caches, as a request body does when an instance thread hashes it), and after
   * the hashing thread has parked for {@code idleNanos}, then run {@code wake} (when not null)
   * and spun 15 us.
   */
  private static double[] afterAnotherThreadWrote(HostBuffer buffer, long bytes, Runnable hash,
      long idleNanos, Runnable wake) {
    int rounds = 2_000;
    long[] nanos = new long[rounds];
    SynchronousQueue<Integer> written = new SynchronousQueue<>();
    SynchronousQueue<Integer> hashed = new SynchronousQueue<>();
    byte[][] patterns = new byte[2][(int) bytes];
    new Random(7).nextBytes(patterns[0]);
    new Random(8).nextBytes(patterns[1]);
    Thread writer = new Thread(() -> {
      try {
        for (int i = 0; i < rounds; i++) {
          buffer.put(0, patterns[i & 1]);
          written.put(i);
          hashed.take();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "body-writer");
    writer.setDaemon(true);
    writer.start();
    try {
      for (int i = 0; i < rounds; i++) {
        written.take();
        if (idleNanos > 0) {
          LockSupport.parkNanos(idleNanos);
        }
        if (wake != null) {
          wake.run();
          long until = System.nanoTime() + 15_000;
          while (System.nanoTime() < until) {
            Thread.onSpinWait();
          }
        }
        long start = System.nanoTime();
        hash.run();
        nanos[i] = System.nanoTime() - start;
        hashed.put(i);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    long[] sorted = Arrays.copyOfRange(nanos, rounds / 4, rounds); // the first quarter: warm-up
    Arrays.sort(sorted);
    return new double[] {sorted[sorted.length / 2] / 1e3, sorted[sorted.length * 9 / 10] / 1e3};
  }

  /** Best of several timed rounds, after a warm-up, in GB/s (1e9 bytes per second). */
  private static double measure(long bytes, Runnable hash) {
    int reps = (int) Math.max(20, 2_000_000_000L / bytes);
    for (int i = 0; i < reps; i++) {
      hash.run();
    }
    double best = 0;
    for (int round = 0; round < 5; round++) {
      long start = System.nanoTime();
      for (int i = 0; i < reps; i++) {
        hash.run();
      }
      long nanos = System.nanoTime() - start;
      best = Math.max(best, (double) bytes * reps / nanos);
    }
    return best;
  }
}
