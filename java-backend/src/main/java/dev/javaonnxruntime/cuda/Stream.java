package dev.javaonnxruntime.cuda;

/**
 * An ordered queue of device work: the stream of one model instance.
 *
 * <p>Why it exists: copies and inference of one instance run in order on its own stream, never on
 * the legacy default stream, so instances on one GPU do not serialise each other. The host
 * implementation ({@link HostStream}) does everything synchronously and its methods do nothing.
 *
 * <p>Ownership: the creator owns the stream and closes it (instance finalize); closing twice is
 * safe. Not for concurrent use: one instance thread enqueues on its stream.
 */
public interface Stream extends AutoCloseable {
  /** The native handle ({@code cudaStream_t}), or 0 for a host stream. */
  long handle();

  /** Blocks until all work enqueued on this stream has completed. */
  void synchronize();

  /** Destroys the stream after the work on it has completed. */
  @Override
  void close();

  /** The stream work is enqueued on: this one, or the stream a shared view stands for. */
  default Stream target() {
    return this;
  }
}
