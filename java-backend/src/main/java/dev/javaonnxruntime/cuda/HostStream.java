package dev.javaonnxruntime.cuda;

/**
 * The stream of a host-memory device: work is done when the call returns, so every method is a
 * no-op. Stateless and thread-safe; one shared instance is enough.
 */
public final class HostStream implements Stream {
  /** The shared host stream. */
  public static final HostStream INSTANCE = new HostStream();

  private HostStream() {}

  @Override
  public long handle() {
    return 0;
  }

  @Override
  public void synchronize() {}

  @Override
  public void close() {}
}
