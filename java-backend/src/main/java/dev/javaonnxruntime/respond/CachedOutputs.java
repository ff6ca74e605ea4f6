package dev.javaonnxruntime.respond;

import dev.javaonnxruntime.cache.CacheCapacityException;
import dev.javaonnxruntime.cache.CacheKey;
import dev.javaonnxruntime.cache.CacheStats;
import dev.javaonnxruntime.cache.InputCache;
import dev.javaonnxruntime.cache.Lease;
import dev.javaonnxruntime.cache.TensorLayout;
import dev.javaonnxruntime.config.DataType;
import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.read.TritonException;
import dev.javaonnxruntime.resolve.Leases;

/**
 * {@link KeptOutputs} in the device's input cache: each kept slice is copied device-to-device on
 * the instance's stream into a named entry of the model's cache group, replacing what the key
 * held, and pinned in the instance's {@link Leases} until its stream is synchronised. Used only
 * on the instance's thread.
 *
 * @param cache the device's input cache
 * @param group the model's cache group, whose named keys the outputs are kept under
 * @param memory the instance's device memory, where the outputs are
 * @param stream the instance's stream, on which the copies are enqueued
 * @param stats the instance's cache counters
 * @param leases the instance's pinned entries, unpinned at the end of each Execute
 */
public record CachedOutputs(InputCache cache, String group, DeviceMemory memory, Stream stream,
    CacheStats stats, Leases leases) implements KeptOutputs {
  @Override
  public void keep(String output, String key, DataType type, long[] shape, long address,
      long bytes) throws CacheCapacityException {
    Lease lease = cache.store(CacheKey.named(group, key), new TensorLayout(type.name(), shape),
        bytes, stream, dst -> memory.copyDeviceToDevice(dst, address, bytes, stream), stats);
    if (lease == null) {
      throw new TritonException(TritonException.UNAVAILABLE, "output '" + output + "' (" + bytes
          + " bytes) cannot be kept under key '" + key + "': it is empty or larger than the whole "
          + "input cache (raise input-cache-bytes)");
    }
    leases.track(lease);
  }
}
