package dev.javaonnxruntime.cache;

/**
 * Decides, for one model input in {@code auto} mode ({@link
 * dev.javaonnxruntime.config.CacheMode#AUTO}), whether a request should hash it.
 *
 * <p>Why it exists: hashing costs time on every request and pays only when inputs repeat. The
 * policy hashes and counts hits over windows of {@code window} lookups; when a window's hit rate
 * is below {@code minHitRate}, it stops hashing for the next {@code skipRequests} requests, then
 * probes again by hashing the next window. Deterministic: the same sequence of hits and misses
 * gives the same decisions.
 *
 * <p>Ownership and threads: one policy per instance and model input, held by the instance and used
 * only on its thread, so it takes no lock; each instance learns from the lookups it makes.
 */
public final class AutoHashPolicy {
  /** Lookups per window, as in the default policy. */
  public static final int DEFAULT_WINDOW = 64;
  /** Hit rate below which hashing pauses, as in the default policy. */
  public static final double DEFAULT_MIN_HIT_RATE = 0.10;
  /** Requests that skip hashing after a poor window, as in the default policy. */
  public static final int DEFAULT_SKIP_REQUESTS = 256;

  private final int window;
  private final double minHitRate;
  private final int skipRequests;
  private int lookups;
  private int hits;
  private int skipsLeft;
  private long pauses;

  /** The default policy: windows of 64, pause below 10% hits, for 256 requests. */
  public AutoHashPolicy() {
    this(DEFAULT_WINDOW, DEFAULT_MIN_HIT_RATE, DEFAULT_SKIP_REQUESTS);
  }

  /** A policy with the given window, threshold and pause length. */
  public AutoHashPolicy(int window, double minHitRate, int skipRequests) {
    if (window < 1 || skipRequests < 0 || !(minHitRate >= 0 && minHitRate <= 1)) {
      throw new IllegalArgumentException(
          "auto hash policy needs window >= 1, 0 <= minHitRate <= 1, skipRequests >= 0; got "
              + window + ", " + minHitRate + ", " + skipRequests);
    }
    this.window = window;
    this.minHitRate = minHitRate;
    this.skipRequests = skipRequests;
  }

  /**
   * Called once per request for this input: true means hash it, look it up and report the outcome
   * with {@link #recordLookup}; false means copy it without the cache.
   */
  public boolean shouldHash() {
    if (skipsLeft > 0) {
      skipsLeft--;
      return false;
    }
    return true;
  }

  /** Reports the outcome of a lookup made after {@link #shouldHash} returned true. */
  public void recordLookup(boolean hit) {
    lookups++;
    if (hit) {
      hits++;
    }
    if (lookups == window) {
      if (hits < minHitRate * window) {
        skipsLeft = skipRequests;
        pauses++;
      }
      lookups = 0;
      hits = 0;
    }
  }

  /** Whether hashing is paused now. */
  public boolean isPaused() {
    return skipsLeft > 0;
  }

  /** How many times hashing was paused since the model loaded. */
  public long pauses() {
    return pauses;
  }
}
