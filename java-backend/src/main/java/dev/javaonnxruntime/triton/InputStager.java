package dev.javaonnxruntime.triton;

import dev.javaonnxruntime.batch.DeviceArena;
import dev.javaonnxruntime.cache.CacheCapacityException;
import dev.javaonnxruntime.config.DataType;
import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.cuda.DeviceAllocationException;
import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.cuda.StagingBuffer;
import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.onnx.InputTensor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;

/**
 * Puts each batch's inputs where the session reads them, with as few copies as the sources allow:
 * a lone request's contiguous host input is bound in place on the CPU; a lone cached input is
 * bound at its device address; everything else is gathered into the instance's arena for that
 * input, host bytes going through the instance's pinned staging buffer with one asynchronous copy
 * on the instance's stream (never a pageable copy, never the default stream).
 *
 * <p>Owns the staging buffer and the arenas (closed with the instance). Used only on the
 * instance's execute thread. Staging space is handed out by a bump pointer that {@link #begin}
 * resets, because a region may still be read by an enqueued copy until the stream is synchronised.
 */
class InputStager implements AutoCloseable {
  protected final DeviceMemory memory;
  protected final Stream stream;
  protected final boolean gpu;
  /** {@code input_staging: "ort"}: hand ORT host tensors and let it copy, as stock Triton does. */
  private final boolean ortCopies;
  private final StagingBuffer staging;
  private final Map<String, DeviceArena> arenas = new HashMap<>();
  private long stagingUsed;

  InputStager(DeviceMemory memory, Stream stream, boolean gpu, boolean ortCopies, DeviceMemory host) {
    this.memory = memory;
    this.stream = stream;
    this.gpu = gpu;
    this.ortCopies = gpu && ortCopies;
    this.hostMemory = host;
    this.staging = gpu ? memory.newStagingBuffer(1 << 20) : null;
  }

  private final DeviceMemory hostMemory;
  private final Map<String, DeviceArena> hostArenas = new HashMap<>();

  /** Sizes the staging buffer for this Execute: no host byte is staged twice. */
  void begin(List<RequestData> requests) {
    stagingUsed = 0;
    if (staging == null) {
      return;
    }
    long total = 0;
    for (RequestData r : requests) {
      for (InputView v : r.inputs.values()) {
        total += v.byteSize();
      }
    }
    staging.ensureCapacity(Math.max(total, 1));
  }

  /** Resolves where each input of a checked request comes from; the cache overrides this. */
  void resolve(RequestData r, List<TensorConfig> inputs) throws Exception {
    for (TensorConfig c : inputs) {
      InputView v = r.inputs.get(c.name());
      if (v == null) {
        throw new TritonException(TritonException.NOT_FOUND, "input '" + c.name()
            + "' was not sent and the input cache is off for it (input_cache 'off'): resend the data");
      }
      r.sources.put(c.name(), hostSource(v));
    }
  }

  static RequestData.Source hostSource(InputView v) {
    if (!v.onHost()) {
      if (v.addresses().length != 1) {
        throw new TritonException(TritonException.UNSUPPORTED,
            "input '" + v.name() + "' arrived in several GPU buffers");
      }
      return new RequestData.Source(v.shape(), v.byteSize(), null, v.addresses()[0]);
    }
    return new RequestData.Source(v.shape(), v.byteSize(), v, 0);
  }

  /** The tensor to bind for input {@code c} of a batch of requests sharing its shape. */
  InputTensor prepare(List<RequestData> group, TensorConfig c, long[] shape)
      throws DeviceAllocationException {
    if (ortCopies && group.stream().allMatch(r -> r.sources.get(c.name()).host() != null)) {
      return prepareForOrtCopy(group, c, shape);
    }
    long total = 0;
    for (RequestData r : group) {
      total += r.sources.get(c.name()).byteSize();
    }
    if (group.size() == 1) {
      RequestData.Source s = group.get(0).sources.get(c.name());
      if (s.host() == null) {
        return new InputTensor(c.name(), c.dataType(), s.device(), total, shape, gpu);
      }
      if (!gpu && s.host().contiguousAddress() != 0) {
        return new InputTensor(c.name(), c.dataType(), s.host().contiguousAddress(), total, shape, false);
      }
    }
    long dst = arenas.computeIfAbsent(c.name(), n -> new DeviceArena(memory)).ensure(Math.max(total, 1));
    fill(group, c, dst);
    return new InputTensor(c.name(), c.dataType(), dst, total, shape, gpu);
  }

  /**
   * Gathers input {@code c} of every request of the batch, in order, at device address {@code
   * dst} (an arena, or a CUDA graph's fixed buffer): device-to-device from cached or GPU sources,
   * through pinned staging from host buffers, all on the instance stream.
   */
  void fill(List<RequestData> group, TensorConfig c, long dst) {
    long offset = 0;
    for (RequestData r : group) {
      RequestData.Source s = r.sources.get(c.name());
      if (s.host() == null) {
        memory.copyDeviceToDevice(dst + offset, s.device(), s.byteSize(), stream);
      } else {
        copyToDevice(s.host(), dst + offset);
      }
      offset += s.byteSize();
    }
  }

  /**
   * The stock backend's way, kept for comparison: the input stays in (pageable) host memory and
   * ORT's CUDA provider copies it to the device inside Run.
   */
  private InputTensor prepareForOrtCopy(List<RequestData> group, TensorConfig c, long[] shape)
      throws DeviceAllocationException {
    long total = group.stream().mapToLong(r -> r.sources.get(c.name()).byteSize()).sum();
    InputView first = group.get(0).sources.get(c.name()).host();
    if (group.size() == 1 && first.contiguousAddress() != 0) {
      return new InputTensor(c.name(), c.dataType(), first.contiguousAddress(), total, shape, false);
    }
    long dst = hostArenas.computeIfAbsent(c.name(), n -> new DeviceArena(hostMemory)).ensure(Math.max(total, 1));
    long offset = 0;
    for (RequestData r : group) {
      gather(r.sources.get(c.name()).host(), dst + offset);
      offset += r.sources.get(c.name()).byteSize();
    }
    return new InputTensor(c.name(), c.dataType(), dst, total, shape, false);
  }

  /**
   * Copies a host input (one or several buffers) to device address {@code dst}: straight for
   * host memory; through pinned staging and one async copy on the instance stream for a GPU.
   */
  protected void copyToDevice(InputView v, long dst) {
    if (!gpu) {
      gather(v, dst);
      return;
    }
    long region = staging.address() + stagingUsed;
    if (stagingUsed + v.byteSize() > staging.capacity()) {
      throw new IllegalStateException("staging buffer overrun: " + (stagingUsed + v.byteSize())
          + " > " + staging.capacity());
    }
    stagingUsed += v.byteSize();
    gather(v, region);
    memory.copyHostToDevice(dst, region, v.byteSize(), stream);
  }

  /** Concatenates an input's host buffers at host address {@code dst}. */
  static void gather(InputView v, long dst) {
    long offset = 0;
    for (int b = 0; b < v.addresses().length; b++) {
      if (v.sizes()[b] > 0) {
        Pointer.memcpy(Handles.at(dst + offset), Handles.at(v.addresses()[b]), v.sizes()[b]);
      }
      offset += v.sizes()[b];
    }
  }

  /**
   * Keeps {@code bytes} at {@code address} (one request's slice of a run's output, in this
   * instance's device memory, valid until the stream is synchronised) resident under the key the
   * client named with {@code output_cache_key.<output>}. This stager has no cache, so it refuses.
   */
  void keepOutput(String output, String key, DataType type, long[] shape, long address, long bytes)
      throws CacheCapacityException {
    throw new TritonException(TritonException.INVALID_ARG, "request parameter '"
        + RequestReader.OUTPUT_KEY_PREFIX + output + "' needs the input cache, which this model "
        + "does not use (input_staging 'ort', or input-cache-bytes=0)");
  }

  /** Called after the instance's stream has been synchronised: nothing reads staging any more. */
  void finish() {
    stagingUsed = 0;
  }

  @Override
  public void close() {
    arenas.values().forEach(DeviceArena::close);
    arenas.clear();
    hostArenas.values().forEach(DeviceArena::close);
    hostArenas.clear();
    if (staging != null) {
      staging.close();
    }
  }
}
