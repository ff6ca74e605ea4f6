package dev.javaonnxruntime.cache;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Hashes input bytes into a {@link Hash128}: the content half of a cache key.
 *
 * <p>Why it exists: hashing runs on every request in content mode, and large inputs (megabytes)
 * would otherwise cost more than a copy saves. An input below {@link #PARALLEL_THRESHOLD} is hashed
 * with plain XXH3-128 on the calling thread. A larger one is cut into {@link #CHUNK_BYTES} chunks
 * of the logical byte range (across buffer boundaries), the chunks are hashed in parallel, and the
 * result is XXH3-128 of the chunk digests followed by the total length. Chunk size does not depend
 * on the thread count, so the hash is the same whatever the threads and whatever the buffer split.
 *
 * <p>Ownership: owns a small pool of daemon threads, shut down by {@link #close()}; one hasher for
 * the whole backend is enough. Thread-safe: any number of instance threads may hash at once; the
 * caller always works on its own chunks too, so a busy pool slows it but never stalls it.
 */
public final class ContentHasher implements AutoCloseable {
  /** Inputs of at least this many bytes are hashed in chunks, in parallel. */
  public static final long PARALLEL_THRESHOLD = 4L << 20;

  /** Chunk size of the parallel hash; part of the hash definition, never tune it per run. */
  public static final long CHUNK_BYTES = 1L << 20;

  private final int threads;
  private final ExecutorService pool;
  private volatile boolean closed;

  /** A hasher that uses up to {@code threads} threads per large input (the caller included). */
  public ContentHasher(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("hash threads must be >= 1, got " + threads);
    }
    this.threads = threads;
    if (threads == 1) {
      this.pool = null;
    } else {
      AtomicInteger index = new AtomicInteger();
      this.pool =
          new ThreadPoolExecutor(
              threads - 1,
              threads - 1,
              0,
              TimeUnit.SECONDS,
              new LinkedBlockingQueue<>(),
              task -> {
                Thread thread = new Thread(task, "input-cache-hash-" + index.incrementAndGet());
                thread.setDaemon(true);
                return thread;
              });
    }
  }

  /** Threads used per large input, the caller included. */
  public int threads() {
    return threads;
  }

  /** The hash of the bytes of {@code input} (host memory, valid during the call). */
  public Hash128 hash(HostBuffers input) {
    if (closed) {
      throw new IllegalStateException("content hasher is closed");
    }
    long total = input.totalLength();
    if (total < PARALLEL_THRESHOLD) {
      long[] out = new long[2];
      Xxh3.hash128(input.addressArray(), input.lengthArray(), input.count(), out);
      return new Hash128(out[0], out[1]);
    }
    int chunks = (int) ((total + CHUNK_BYTES - 1) / CHUNK_BYTES);
    long[] digests = new long[2 * chunks + 1];
    digests[2 * chunks] = total;
    hashChunks(new ChunkPlan(input), chunks, digests);
    long[] out = new long[2];
    Xxh3.hash128Longs(digests, digests.length, out);
    return new Hash128(out[0], out[1]);
  }

  /** Shuts the pool down; hashing afterwards throws. Safe to call twice. */
  @Override
  public void close() {
    closed = true;
    if (pool != null) {
      pool.shutdownNow();
    }
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
    int helpers = pool == null ? 0 : Math.min(threads - 1, chunks - 1);
    for (int i = 0; i < helpers; i++) {
      pool.execute(worker);
    }
    worker.run();
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
