package dev.javaonnxruntime.resolve;

import dev.javaonnxruntime.cache.CacheCapacityException;
import dev.javaonnxruntime.cache.CacheKey;
import dev.javaonnxruntime.cache.CacheStats;
import dev.javaonnxruntime.cache.ContentHasher;
import dev.javaonnxruntime.cache.HostBuffers;
import dev.javaonnxruntime.cache.InputCache;
import dev.javaonnxruntime.cache.Lease;
import dev.javaonnxruntime.cache.TensorLayout;
import dev.javaonnxruntime.config.CacheMode;
import dev.javaonnxruntime.config.CacheSettings;
import dev.javaonnxruntime.config.DataType;
import dev.javaonnxruntime.config.ModelConfig;
import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.read.InputView;
import dev.javaonnxruntime.read.KeyParameters;
import dev.javaonnxruntime.read.RequestData;
import dev.javaonnxruntime.read.TritonException;
import java.util.Arrays;
import java.util.Map;

/**
 * The {@link InputLookup} that serves inputs from the device's input cache.
 *
 * <p>Per input, by the model's mode: a client-named key ({@code input_cache_key.<input>}) stores
 * or replaces the entry when the request carries the data, and is looked up when it does not (an
 * unknown or evicted key fails only that request, with NOT_FOUND); {@code content} hashes the
 * bytes (XXH3-128 keyed with the backend's secret, with dtype and shape) and reuses an entry a
 * model of the same cache group stored (any sharing model's, with input_cache_share_content);
 * {@code auto} does the same on a GPU until the input's hit rate says hashing does not pay. A
 * miss copies the bytes once into the new entry, each buffer by the instance's {@link
 * InputPlacement} rule through its {@link InputCopier}. Content keys hash host bytes only: an
 * input in GPU memory is served uncached in {@code content} and {@code auto} mode (a hit would
 * save at most the copy that binding it in place already avoids), while a named key stores it.
 * {@link Leases} pin the entries a batch reads until the instance has synchronised its stream.
 * Used only on the instance's thread.
 */
final class CacheLookup implements InputLookup {
  private final InputCache cache;
  private final ContentHasher hasher;
  private final String model;
  private final ModelConfig config;
  private final CacheSettings settings;
  private final CacheUse use;
  private final CacheStats stats;
  private final InputPlacement placement;
  private final InputCopier copier;
  private final Leases leases;
  /** Each configured input's mode, in config order: found by identity on every request. */
  private final CacheMode[] modes;
  /** The largest input hashed since the last {@link #expect}; the instance's thread only. */
  private long hashed;

  CacheLookup(InputCache cache, ContentHasher hasher, String model, ModelConfig config,
      CacheSettings settings, CacheUse use, InputPlacement placement, InputCopier copier,
      Leases leases) {
    this.cache = cache;
    this.hasher = hasher;
    this.model = model;
    this.config = config;
    this.settings = settings;
    this.use = use;
    this.stats = use.stats();
    this.placement = placement;
    this.copier = copier;
    this.leases = leases;
    this.modes = config.inputs().stream().map(c -> settings.mode(c.name()))
        .toArray(CacheMode[]::new);
  }

  @Override
  public InputSource find(RequestData r, TensorConfig c, InputView v) throws Exception {
    String key = r.cacheKeys().get(c.name());
    CacheMode mode = mode(c);
    Lease lease = null;
    if (key != null && mode != CacheMode.OFF) {
      lease = named(c, v, CacheKey.named(settings.group(), key), key);
    } else if (v != null && v.onHost() && cache.admits(v.byteSize()) && hashes(mode, c)) {
      lease = byContent(c, v, mode);
    } else if (key != null) {
      throw new TritonException(TritonException.INVALID_ARG, "input '" + c.name()
          + "' has input_cache 'off', so the request parameter '" + KeyParameters.KEY_PREFIX
          + c.name() + "' cannot be used");
    }
    if (lease == null) {
      return null;
    }
    lease.awaitOn(copier.stream());
    return new InputSource.Resident(lease.layout().shape(), lease.byteSize(), lease.address(),
        lease.entryId());
  }

  private CacheMode mode(TensorConfig c) {
    for (int i = 0; i < modes.length; i++) {
      if (config.inputs().get(i) == c) {
        return modes[i];
      }
    }
    return settings.mode(c.name());
  }

  private boolean hashes(CacheMode mode, TensorConfig c) {
    // On the CPU a content hit saves nothing (inputs are bound in place), so auto does not hash.
    return mode == CacheMode.CONTENT
        || (mode == CacheMode.AUTO && copier.gpu() && use.autoPolicy(c.name()).shouldHash());
  }

  private Lease named(TensorConfig c, InputView v, CacheKey key, String name)
      throws CacheCapacityException {
    if (v != null) {
      Lease lease = store(key, v);
      if (lease == null) {
        throw new TritonException(TritonException.UNAVAILABLE, "input '" + c.name() + "' ("
            + v.byteSize() + " bytes) is larger than the whole input cache; it cannot be kept "
            + "under key '" + name + "' (raise input-cache-bytes)");
      }
      return leases.track(lease);
    }
    Lease lease = cache.lookup(key, stats);
    if (lease == null) {
      throw new TritonException(TritonException.NOT_FOUND, "input '" + c.name()
          + "': no cached tensor under key '" + name + "' in cache group '" + settings.group()
          + "' (never stored, or evicted); resend the data with the same key");
    }
    leases.track(lease);
    TensorLayout layout = lease.layout();
    // Layouts hold the names of DataType's constants: equal names are one string.
    if (!layout.dataType().equals(c.dataType().name())
        || !c.accepts(layout.shape(), config.batched())) {
      DataType type = DataType.valueOf(layout.dataType());
      throw new TritonException(TritonException.INVALID_ARG, "input '" + c.name() + "': the tensor "
          + "cached under key '" + name + "' is " + type.apiName() + " "
          + Arrays.toString(layout.shape()) + ", which this model's input does not accept ("
          + c.dataType().apiName() + " " + c.describeShape(config.batched()) + ")");
    }
    return lease;
  }

  private Lease byContent(TensorConfig c, InputView v, CacheMode mode)
      throws CacheCapacityException {
    HostBuffers bytes = HostBuffers.of(v.addresses(), v.sizes());
    hashed = Math.max(hashed, bytes.totalLength());
    CacheKey.Content key =
        cache.contentKey(hasher, settings.contentScope(), bytes, layout(v), stats);
    Lease lease = cache.lookup(key, stats);
    if (mode == CacheMode.AUTO) {
      use.autoPolicy(c.name()).recordLookup(lease != null);
    }
    if (lease == null) {
      try {
        lease = store(key, v);
      } catch (CacheCapacityException e) {
        return null; // the cache is full of pinned entries: serve this request uncached
      }
    }
    return lease == null ? null : leases.track(lease);
  }

  /** Stores {@code v} under {@code key}, its bytes copied once into the new entry by its route. */
  private Lease store(CacheKey key, InputView v) throws CacheCapacityException {
    InputPlacement.Route route = placement.route(v);
    return cache.store(key, layout(v), v.byteSize(), copier.stream(),
        dst -> copier.copyInto(v, route, dst), stats);
  }

  private static TensorLayout layout(InputView v) {
    return new TensorLayout(v.dataType().name(), v.shape());
  }

  /** Inputs resolved from named keys must agree with the others on the batch size. */
  @Override
  public long rows(RequestData r, Map<String, InputSource> sources) {
    if (!config.batched()) {
      return r.batch;
    }
    long batch = -1;
    for (InputSource s : sources.values()) {
      long b = s.shape().length > 0 ? s.shape()[0] : -1;
      if (batch != -1 && b != batch) {
        throw new TritonException(TritonException.INVALID_ARG, "inputs of one request (sent or "
            + "cached) must share the batch size, got " + batch + " and " + b);
      }
      batch = b;
    }
    if (batch < 1 || batch > config.maxBatchSize()) {
      throw new TritonException(TritonException.INVALID_ARG, "inference request batch-size must be <= "
          + config.maxBatchSize() + " for '" + model + "', got " + batch);
    }
    return batch;
  }

  @Override
  public void expect() {
    hasher.wake(hashed);
    hashed = 0;
  }

  @Override
  public void finish() {
    leases.closeAll();
  }
}
