package dev.javaonnxruntime.cache;

/**
 * The cache could not make room for an input: open leases pin too much of the budget, or the
 * device refused the allocation even after every unpinned entry was evicted.
 *
 * <p>Why checked: it concerns one request only. The caller fails that request with a
 * RESOURCE_EXHAUSTED-like error (or copies the input without caching) and the instance goes on.
 * Immutable.
 */
public final class CacheCapacityException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Creates the exception; {@code cause} is the device's refusal, when there was one. */
  public CacheCapacityException(String message, Throwable cause) {
    super(message, cause);
  }
}
