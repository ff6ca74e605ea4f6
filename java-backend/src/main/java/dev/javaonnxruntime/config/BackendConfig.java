package dev.javaonnxruntime.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The backend-wide settings from {@code --backend-config=java_onnxruntime,<key>=<value>}, read once
 * in {@code TRITONBACKEND_Initialize}. Triton passes every value as a string, and adds global
 * settings of its own ({@code default-max-batch-size}, {@code auto-complete-config}). Every key
 * read here acts, and a value out of range is refused with a message naming the key.
 */
public record BackendConfig(long inputCacheBytes, int defaultMaxBatchSize, boolean autoComplete,
    int hashThreads, long hashSpinMicros, boolean streamPerInstance, int testFailAllocations) {

  /** Per GPU (and for the one host-memory cache of CPU instances): 1 GiB unless configured. */
  public static final long DEFAULT_INPUT_CACHE_BYTES = 1L << 30;

  /**
   * How long a hash helper spins for work after its last chunk, or after an Execute of a
   * content-keyed model woke it, before it parks (docs/triton-guide.md, section 3): none. In the
   * real server 50 us hashed no faster than 0 and cost the instance thread a wake-up of 3-4 us
   * per Execute (bench/results/2026-12-07-h100-kept).
   */
  public static final long DEFAULT_HASH_SPIN_MICROS = 0;

  private static final ObjectMapper JSON = new ObjectMapper();

  /** Parses {@code {"cmdline":{...}}} from {@code TRITONBACKEND_BackendConfig}. */
  public static BackendConfig parse(String json) throws ConfigException {
    JsonNode cmdline;
    try {
      cmdline = JSON.readTree(json).path("cmdline");
    } catch (JsonProcessingException e) {
      throw new ConfigException("backend configuration is not valid JSON: " + e.getOriginalMessage(), e);
    }
    long cacheBytes = number(cmdline, "input-cache-bytes", DEFAULT_INPUT_CACHE_BYTES);
    if (cacheBytes < 0) {
      throw new ConfigException("backend config input-cache-bytes must be >= 0, got " + cacheBytes);
    }
    long maxBatch = number(cmdline, "default-max-batch-size", 4);
    if (maxBatch < 0 || maxBatch > Integer.MAX_VALUE) {
      throw new ConfigException("backend config default-max-batch-size must be >= 0, got " + maxBatch);
    }
    long threads = number(cmdline, "input-cache-hash-threads",
        Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors() / 2)));
    if (threads < 1 || threads > 256) {
      throw new ConfigException("backend config input-cache-hash-threads must be 1..256, got " + threads);
    }
    long spin = number(cmdline, "input-cache-hash-spin-us", DEFAULT_HASH_SPIN_MICROS);
    if (spin < 0 || spin > 10_000) {
      throw new ConfigException("backend config input-cache-hash-spin-us must be 0..10000, got " + spin);
    }
    return new BackendConfig(cacheBytes, (int) maxBatch, bool(cmdline, "auto-complete-config"),
        (int) threads, spin, bool(cmdline, "stream-per-instance"),
        (int) number(cmdline, "test-fail-allocations", 0));
  }

  /** A {@code true}/{@code false} setting, {@code true} when absent. */
  private static boolean bool(JsonNode cmdline, String key) throws ConfigException {
    String v = cmdline.path(key).asText("true").trim();
    if (!v.equals("true") && !v.equals("false")) {
      throw new ConfigException("backend config " + key + " must be true or false, got \""
          + v + "\"");
    }
    return v.equals("true");
  }

  private static long number(JsonNode cmdline, String key, long fallback) throws ConfigException {
    JsonNode v = cmdline.get(key);
    if (v == null) {
      return fallback;
    }
    try {
      return Long.parseLong(v.asText().trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(
          "backend config " + key + " must be an integer, got \"" + v.asText() + "\"", e);
    }
  }
}
