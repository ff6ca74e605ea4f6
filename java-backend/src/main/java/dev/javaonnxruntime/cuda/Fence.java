package dev.javaonnxruntime.cuda;

/**
 * A point in one stream's work that other streams can wait for (a CUDA event).
 *
 * <p>Why it exists: an instance stores an input in the cache by copying it on its own stream; an
 * instance on another stream may look it up before that copy has finished. The cache records a
 * fence after the copy, and the reader makes its stream wait on it ({@link #awaitOn}) before
 * reading, without blocking any host thread. For host memory copies are synchronous and the fence
 * is a no-op.
 *
 * <p>Ownership: the cache entry that recorded the fence owns it and closes it when the entry is
 * freed; closing twice is safe. {@link #awaitOn} is thread-safe.
 */
public interface Fence extends AutoCloseable {
  /** A fence that is always reached: for host memory. */
  Fence REACHED =
      new Fence() {
        @Override
        public void awaitOn(Stream stream) {}

        @Override
        public void close() {}
      };

  /** Makes work enqueued later on {@code stream} wait until this fence is reached. */
  void awaitOn(Stream stream);

  /** Releases the fence. */
  @Override
  void close();
}
