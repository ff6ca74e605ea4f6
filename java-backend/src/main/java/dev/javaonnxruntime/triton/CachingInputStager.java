package dev.javaonnxruntime.triton;

import dev.javaonnxruntime.cache.CacheCapacityException;
import dev.javaonnxruntime.cache.CacheKey;
import dev.javaonnxruntime.cache.CacheStats;
import dev.javaonnxruntime.cache.ContentHasher;
import dev.javaonnxruntime.cache.HostBuffers;
import dev.javaonnxruntime.cache.InputCache;
import dev.javaonnxruntime.cache.Lease;
import dev.javaonnxruntime.cache.TensorLayout;
import dev.javaonnxruntime.config.CacheMode;
import dev.javaonnxruntime.config.DataType;
import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.lifecycle.Closer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An {@link InputStager} that serves inputs from the device's input cache.
 *
 * <p>Per input, by the model's mode: a client-named key ({@code input_cache_key.<input>}) stores
 * or replaces the entry when the request carries the data, and is looked up when it does not (an
 * unknown or evicted key fails only that request, with NOT_FOUND); {@code content} hashes the
 * bytes (XXH3-128 keyed with the backend's secret, with dtype and shape) and reuses an entry a
 * model of the same cache group stored (any sharing model's, with input_cache_share_content);
 * {@code auto} does the same on a GPU until the input's hit rate says hashing does not pay. A
 * miss copies the bytes once into the new entry, each buffer by the instance's {@link
 * InputPlacement} rule (host bytes through pinned staging on the instance's stream; an input in
 * GPU memory device-to-device, by a peer copy from another GPU, or device-to-host for a CPU
 * instance). Content keys hash host bytes only: an input in GPU memory is served uncached in
 * {@code content} and {@code auto} mode (a hit would save at most the copy that binding it in
 * place already avoids), while a named key stores it. Leases pin the entries a batch reads until
 * the instance has synchronised its stream.
 */
final class CachingInputStager extends InputStager {
  private final InputCache cache;
  private final ContentHasher hasher;
  private final ModelState model;
  private final CacheUse use;
  private final CacheStats stats;
  private final List<Lease> leases = new ArrayList<>();

  CachingInputStager(DeviceMemory memory, Stream stream, boolean gpu, InputCache cache,
      ContentHasher hasher, ModelState model, CacheUse use, DeviceMemory host) {
    super(memory, stream, gpu, false, host);
    this.cache = cache;
    this.hasher = hasher;
    this.model = model;
    this.use = use;
    this.stats = use.stats();
  }

  @Override
  void resolve(RequestData r, List<TensorConfig> inputs) throws Exception {
    for (TensorConfig c : inputs) {
      InputView v = r.inputs.get(c.name());
      String key = r.cacheKeys.get(c.name());
      CacheMode mode = model.cache.mode(c.name());
      Lease lease = null;
      if (key != null && mode != CacheMode.OFF) {
        lease = named(c, v, CacheKey.named(model.cache.group(), key), key);
      } else if (v != null && v.onHost() && cache.admits(v.byteSize()) && hashes(mode, c)) {
        lease = byContent(c, v, mode);
      } else if (key != null) {
        throw new TritonException(TritonException.INVALID_ARG, "input '" + c.name()
            + "' has input_cache 'off', so the request parameter '" + RequestReader.KEY_PREFIX
            + c.name() + "' cannot be used");
      }
      if (lease == null) {
        super.resolve(r, List.of(c));
        continue;
      }
      lease.awaitOn(stream);
      r.sources.put(c.name(), RequestData.Source.resident(lease.layout().shape(), lease.byteSize(),
          lease.address()));
    }
    checkBatch(r);
  }

  private boolean hashes(CacheMode mode, TensorConfig c) {
    // On the CPU a content hit saves nothing (inputs are bound in place), so auto does not hash.
    return mode == CacheMode.CONTENT || (mode == CacheMode.AUTO && gpu && use.autoPolicy(c.name()).shouldHash());
  }

  private Lease named(TensorConfig c, InputView v, CacheKey key, String name) throws CacheCapacityException {
    if (v != null) {
      InputPlacement.Route route = placement.route(v);
      Lease lease = cache.store(key, layout(v), v.byteSize(), stream, dst -> copyInto(v, route, dst), stats);
      if (lease == null) {
        throw new TritonException(TritonException.UNAVAILABLE, "input '" + c.name() + "' ("
            + v.byteSize() + " bytes) is larger than the whole input cache; it cannot be kept "
            + "under key '" + name + "' (raise input-cache-bytes)");
      }
      return track(lease);
    }
    Lease lease = cache.lookup(key, stats);
    if (lease == null) {
      throw new TritonException(TritonException.NOT_FOUND, "input '" + c.name()
          + "': no cached tensor under key '" + name + "' in cache group '" + model.cache.group()
          + "' (never stored, or evicted); resend the data with the same key");
    }
    track(lease);
    DataType type = DataType.valueOf(lease.layout().dataType());
    if (type != c.dataType() || !c.accepts(lease.layout().shape(), model.config.batched())) {
      throw new TritonException(TritonException.INVALID_ARG, "input '" + c.name() + "': the tensor "
          + "cached under key '" + name + "' is " + type.apiName() + " "
          + Arrays.toString(lease.layout().shape()) + ", which this model's input does not accept ("
          + c.dataType().apiName() + " " + c.describeShape(model.config.batched()) + ")");
    }
    return lease;
  }

  private Lease byContent(TensorConfig c, InputView v, CacheMode mode) throws CacheCapacityException {
    TensorLayout layout = layout(v);
    CacheKey.Content key = cache.contentKey(hasher, model.cache.contentScope(),
        HostBuffers.of(v.addresses(), v.sizes()), layout, stats);
    Lease lease = cache.lookup(key, stats);
    if (mode == CacheMode.AUTO) {
      use.autoPolicy(c.name()).recordLookup(lease != null);
    }
    if (lease == null) {
      InputPlacement.Route route = placement.route(v);
      try {
        lease = cache.store(key, layout, v.byteSize(), stream, dst -> copyInto(v, route, dst), stats);
      } catch (CacheCapacityException e) {
        return null; // the cache is full of pinned entries: serve this request uncached
      }
    }
    return lease == null ? null : track(lease);
  }

  @Override
  void keepOutput(String output, String key, DataType type, long[] shape, long address, long bytes)
      throws CacheCapacityException {
    Lease lease = cache.store(CacheKey.named(model.cache.group(), key), new TensorLayout(type.name(), shape),
        bytes, stream, dst -> memory.copyDeviceToDevice(dst, address, bytes, stream), stats);
    if (lease == null) {
      throw new TritonException(TritonException.UNAVAILABLE, "output '" + output + "' (" + bytes
          + " bytes) cannot be kept under key '" + key + "': it is empty or larger than the whole "
          + "input cache (raise input-cache-bytes)");
    }
    track(lease);
  }

  private Lease track(Lease lease) {
    leases.add(lease);
    return lease;
  }

  private static TensorLayout layout(InputView v) {
    return new TensorLayout(v.dataType().name(), v.shape());
  }

  /** Inputs resolved from named keys must agree with the others on the batch size. */
  private void checkBatch(RequestData r) {
    if (!model.config.batched()) {
      return;
    }
    long batch = -1;
    for (RequestData.Source s : r.sources.values()) {
      long b = s.shape().length > 0 ? s.shape()[0] : -1;
      if (batch != -1 && b != batch) {
        throw new TritonException(TritonException.INVALID_ARG, "inputs of one request (sent or "
            + "cached) must share the batch size, got " + batch + " and " + b);
      }
      batch = b;
    }
    if (batch < 1 || batch > model.config.maxBatchSize()) {
      throw new TritonException(TritonException.INVALID_ARG, "inference request batch-size must be <= "
          + model.config.maxBatchSize() + " for '" + model.name + "', got " + batch);
    }
    r.batch = batch;
  }

  /** Closes every lease, even when one fails, and throws the first failure (later suppressed). */
  @Override
  void finish() {
    Closer closer = new Closer("stager.finish");
    leases.forEach(lease -> closer.close("lease", lease));
    leases.clear();
    super.finish();
    closer.finish();
  }

  @Override
  public void close() {
    finish();
    super.close();
  }
}
