package dev.javaonnxruntime.respond;

import dev.javaonnxruntime.cache.CacheCapacityException;
import dev.javaonnxruntime.config.DataType;
import dev.javaonnxruntime.read.KeyParameters;
import dev.javaonnxruntime.read.TritonException;

/**
 * Where the outputs a request names with {@code output_cache_key.<output>} go: the device's input
 * cache ({@link CachedOutputs}), under that key, for the next model of the cache group; or nowhere
 * ({@link #REFUSED}) for an instance without the cache. A port of its own, apart from the input
 * side of the cache. Used on the instance's thread.
 */
public interface KeptOutputs {
  /**
   * Keeps {@code bytes} at {@code address} (one request's slice of a run's output, in the
   * instance's device memory, valid until the stream is synchronised) resident under the key
   * {@code key}; throws what fails the request.
   */
  void keep(String output, String key, DataType type, long[] shape, long address, long bytes)
      throws CacheCapacityException;

  /** No cache: a request that names an output key fails (INVALID_ARG, naming the parameter). */
  KeptOutputs REFUSED = (output, key, type, shape, address, bytes) -> {
    throw new TritonException(TritonException.INVALID_ARG, "request parameter '"
        + KeyParameters.OUTPUT_KEY_PREFIX + output + "' needs the input cache, which this model "
        + "does not use (input_staging 'ort', or input-cache-bytes=0)");
  };
}
