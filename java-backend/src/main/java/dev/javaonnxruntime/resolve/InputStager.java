package dev.javaonnxruntime.resolve;

import dev.javaonnxruntime.cache.ContentHasher;
import dev.javaonnxruntime.cache.InputCache;
import dev.javaonnxruntime.config.CacheSettings;
import dev.javaonnxruntime.config.ModelConfig;
import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.cuda.CudaRuntime;
import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.cuda.DeviceReader;
import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.lifecycle.Closer;
import dev.javaonnxruntime.read.Failures;
import dev.javaonnxruntime.read.InputView;
import dev.javaonnxruntime.read.RequestData;
import dev.javaonnxruntime.read.TritonException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The resolve step: finds where each input of a checked request comes from, asking its {@link
 * InputLookup} first (the device's input cache, or nothing) and otherwise taking the request's own
 * buffers by the instance's {@link InputPlacement} rule (bound in place where the instance
 * computes in their memory, else copied by its {@link InputCopier}). An input the instance cannot
 * reach, or a key that names nothing, fails its request alone, here.
 *
 * <p>Composition, not inheritance: the cache is a lookup this stager is given ({@link
 * #cached}), and an uncached instance gets {@link InputLookup#NONE} ({@link #uncached}). Owns the
 * copier (closed with the instance). Used only on the instance's execute thread.
 */
public final class InputStager implements AutoCloseable {
  private final InputPlacement placement;
  private final InputLookup lookup;
  private final InputCopier copier;
  /** {@code input_staging: "ort"}: hand ORT host tensors and let it copy, as stock Triton does. */
  private final boolean ortCopies;
  private final DeviceMemory host;

  /** With the rule, the copier and the lookup given (tests stand host memory in for GPUs). */
  public InputStager(InputPlacement placement, InputCopier copier, InputLookup lookup,
      boolean ortCopies, DeviceMemory host) {
    this.placement = placement;
    this.copier = copier;
    this.lookup = lookup;
    this.ortCopies = copier.gpu() && ortCopies;
    this.host = host;
  }

  /** The rule of an instance computing in {@code memory} ({@code gpu}) or on the CPU. */
  public static InputPlacement placementFor(DeviceMemory memory, boolean gpu) {
    return new InputPlacement(gpu ? memory.deviceId() : -1, CudaRuntime::deviceCount);
  }

  /** A copier into {@code memory} on {@code stream}, with {@code reader} for GPU-to-host copies. */
  public static InputCopier copier(DeviceMemory memory, Stream stream, boolean gpu,
      DeviceReader reader) {
    return new InputCopier(memory, stream, gpu, reader);
  }

  /** A stager without the cache: every input from the request. */
  public static InputStager uncached(DeviceMemory memory, Stream stream, boolean gpu,
      boolean ortCopies, DeviceMemory host) {
    return new InputStager(placementFor(memory, gpu),
        copier(memory, stream, gpu, DeviceReader.cuda()), InputLookup.NONE, ortCopies, host);
  }

  /**
   * A stager that serves inputs from the device's input cache (see {@link CacheLookup}); the
   * entries it pins are held in {@code leases} until {@link #finish}.
   */
  public static InputStager cached(DeviceMemory memory, Stream stream, boolean gpu,
      InputCache cache, ContentHasher hasher, String model, ModelConfig config,
      CacheSettings settings, CacheUse use, Leases leases, DeviceMemory host) {
    InputPlacement placement = placementFor(memory, gpu);
    InputCopier copier = copier(memory, stream, gpu, DeviceReader.cuda());
    CacheLookup lookup = new CacheLookup(cache, hasher, model, config, settings, use, placement,
        copier, leases);
    return new InputStager(placement, copier, lookup, false, host);
  }

  /** What copies inputs into the instance's memory (the batch step gathers with it). */
  public InputCopier copier() {
    return copier;
  }

  /** Whether host inputs are handed to ORT to copy ({@code input_staging: "ort"}, GPU only). */
  public boolean ortCopies() {
    return ortCopies;
  }

  /** Host memory for the batches ORT copies itself. */
  public DeviceMemory hostMemory() {
    return host;
  }

  /** An Execute begins: see {@link InputLookup#expect}. */
  public void expect() {
    lookup.expect();
  }

  /** Sizes the staging buffer for this Execute: no host byte is staged twice. */
  public void begin(List<RequestData> requests) {
    copier.begin(requests);
  }

  /**
   * Begins the Execute of the checked {@code requests} and resolves each: those resolved, in
   * order; each other one fails alone, with what could not be found.
   */
  public List<ResolvedRequest> resolveAll(List<RequestData> requests, List<TensorConfig> inputs) {
    begin(requests);
    List<ResolvedRequest> resolved = new ArrayList<>(requests.size());
    for (RequestData r : requests) {
      try {
        resolved.add(resolve(r, inputs));
      } catch (Exception e) {
        r.fail(Failures.asTriton(e));
      }
    }
    return resolved;
  }

  /**
   * Where each configured input of checked request {@code r} comes from; sets its rows ({@code
   * r.batch}) from them, which the boundary's statistics count.
   */
  public ResolvedRequest resolve(RequestData r, List<TensorConfig> inputs) throws Exception {
    Map<String, InputSource> sources = new LinkedHashMap<>();
    for (TensorConfig c : inputs) {
      InputView v = r.inputs.get(c.name());
      InputSource found = lookup.find(r, c, v);
      if (found == null && v == null) {
        throw new TritonException(TritonException.NOT_FOUND, "input '" + c.name()
            + "' was not sent and the input cache is off for it (input_cache 'off'): resend the data");
      }
      sources.put(c.name(), found != null ? found : new InputSource.FromRequest(v, placement.route(v)));
    }
    r.batch = lookup.rows(r, sources);
    return new ResolvedRequest(r, sources);
  }

  /**
   * After the instance's stream has been synchronised: unpins what the Execute pinned (each lease
   * even when one fails; the first failure is thrown) and resets the staging space.
   */
  public void finish() {
    try {
      lookup.finish();
    } finally {
      copier.finish();
    }
  }

  /** Unpins what is still pinned, then closes the copier, even when unpinning failed. */
  @Override
  public void close() {
    Closer closer = new Closer("stager.close");
    closer.run("finish", this::finish);
    closer.close("copier", copier);
    closer.finish();
  }
}
