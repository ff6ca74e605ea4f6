package dev.javaonnxruntime.cache;

import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Hashes input bytes into a {@link Hash128}: the content half of a cache key.
 *
 * <p>Why it exists: hashing runs on every request in content mode, and large inputs (megabytes)
 * would otherwise cost more than a copy saves. Every hash is XXH3-128 keyed with a secret of
 * {@link #SECRET_BYTES} random bytes that the hasher draws from {@link SecureRandom} when it is
 * made, at backend start: no client can compute a key, or craft colliding inputs offline, and the
 * keys change with every start (docs/triton-guide.md, "Content keys"). An input below {@link
 * #PARALLEL_THRESHOLD} is hashed on the calling thread. A larger one is cut into {@link #CHUNK_BYTES} chunks
 * of the logical byte range (across buffer boundaries), the chunks are hashed in parallel, and the
 * result is the keyed XXH3-128 of the chunk digests followed by the total length. Chunk size does not depend
 * on the thread count, so the hash is the same whatever the threads and whatever the buffer split.
 *
 * <p>Ownership: owns its helper threads ({@link HashHelpers}), stopped by {@link #close()}; one hasher for
 * the whole backend is enough. Thread-safe: any number of instance threads may hash at once; the
 * caller always works on its own chunks too, so busy helpers slow it but never stalls it.
 */
public final class ContentHasher implements AutoCloseable {
  /**
   * Inputs of at least this many bytes are hashed in chunks, in parallel: a 602,112-byte image
   * (1x3x224x224 FP32) is, in 5 chunks, since one thread takes ~31 us for it on the H200 host.
   */
  public static final long PARALLEL_THRESHOLD = 256L << 10;

  /**
   * Chunk size of the parallel hash; part of the hash definition (a key holds only within one
   * backend start), never tune it per run.
   */
  public static final long CHUNK_BYTES = 128L << 10;

  /** How long the caller spins for its helpers' last chunks before it parks. */
  static final long SPIN_NANOS = 100_000;

  /** Size of the secret: XXH3's default secret size (the minimum is 136). */
  public static final int SECRET_BYTES = 192;

  private final int threads;
  private final byte[] secret;
  private final HashHelpers helpers;
  private volatile boolean closed;

  /**
   * A hasher that uses up to {@code threads} threads per large input (the caller included), keyed
   * with a secret drawn now from {@link SecureRandom}; its helpers spin for {@code spinNanos}
   * after their last chunk, or after {@link #wake}, before they park.
   */
  public ContentHasher(int threads, long spinNanos) {
    this(threads, spinNanos, drawSecret());
  }

  /** As {@link #ContentHasher(int, long)}, helpers parking at once (tests, benchmarks). */
  public ContentHasher(int threads) {
    this(threads, 0, drawSecret());
  }

  /** As {@link #ContentHasher(int, long)}, keyed with a copy of {@code secret} (tests). */
  ContentHasher(int threads, byte[] secret) {
    this(threads, 0, secret);
  }

  ContentHasher(int threads, long spinNanos, byte[] secret) {
    if (threads < 1) {
      throw new IllegalArgumentException("hash threads must be >= 1, got " + threads);
    }
    if (secret.length < Xxh3.SECRET_SIZE_MIN) {
      throw new IllegalArgumentException(
          "the secret needs at least " + Xxh3.SECRET_SIZE_MIN + " bytes, got " + secret.length);
    }
    this.threads = threads;
    this.secret = secret.clone();
    this.helpers = threads == 1 ? null : new HashHelpers(threads - 1, spinNanos);
  }

  /** The helper threads (tests). */
  List<Thread> helperThreads() {
    return helpers == null ? List.of() : helpers.threads();
  }

  /** Threads used per large input, the caller included. */
  public int threads() {
    return threads;
  }

  /**
   * Tells the hasher that a hash of about {@code bytes} is coming: wakes the helpers it would use,
   * so that they spin until it comes (when they spin at all). A hint; the hash is the same.
   */
  public void wake(long bytes) {
    if (helpers != null && bytes >= PARALLEL_THRESHOLD && !closed) {
      helpers.wake(Math.min(threads - 1, chunks(bytes) - 1));
    }
  }

  private static int chunks(long bytes) {
    return (int) ((bytes + CHUNK_BYTES - 1) / CHUNK_BYTES);
  }

  /** The hash of the bytes of {@code input} (host memory, valid during the call). */
  public Hash128 hash(HostBuffers input) {
    if (closed) {
      throw new IllegalStateException("content hasher is closed");
    }
    long total = input.totalLength();
    if (total < PARALLEL_THRESHOLD) {
      long[] out = new long[2];
      Xxh3.hash128(input.addressArray(), input.lengthArray(), input.count(), secret, out);
      return new Hash128(out[0], out[1]);
    }
    int chunks = chunks(total);
    long[] digests = new long[2 * chunks + 1];
    digests[2 * chunks] = total;
    hashChunks(new ChunkPlan(input, secret), chunks, digests);
    long[] out = new long[2];
    Xxh3.hash128Longs(digests, digests.length, secret, out);
    return new Hash128(out[0], out[1]);
  }

  /** Stops the helpers; hashing afterwards throws. Safe to call twice. */
  @Override
  public void close() {
    closed = true;
    if (helpers != null) {
      helpers.close();
    }
  }

  private static byte[] drawSecret() {
    byte[] secret = new byte[SECRET_BYTES];
    new SecureRandom().nextBytes(secret);
    return secret;
  }

  private void hashChunks(ChunkPlan plan, int chunks, long[] digests) {
    AtomicInteger next = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(chunks);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Runnable worker =
        () -> {
          int chunk;
          while ((chunk = next.getAndIncrement()) < chunks) {
            try {
              plan.hashChunk(chunk, digests);
            } catch (RuntimeException | Error e) {
              failure.compareAndSet(null, e);
            } finally {
              done.countDown();
            }
          }
        };
    if (helpers != null) {
      helpers.offer(worker, Math.min(threads - 1, chunks - 1));
    }
    worker.run();
    // What a helper still hashes is one chunk at most (~5 us): wait for it on the CPU rather
    // than parking, whose wake-up alone can cost more; park only if it takes much longer.
    long spinUntil = System.nanoTime() + SPIN_NANOS;
    while (done.getCount() > 0 && System.nanoTime() < spinUntil) {
      Thread.onSpinWait();
    }
    awaitUninterruptibly(done); // helpers read the caller's buffers: never return before them
    Throwable failed = failure.get();
    if (failed instanceof RuntimeException e) {
      throw e;
    }
    if (failed instanceof Error e) {
      throw e;
    }
  }

  private static void awaitUninterruptibly(CountDownLatch latch) {
    boolean interrupted = false;
    while (true) {
      try {
        latch.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
