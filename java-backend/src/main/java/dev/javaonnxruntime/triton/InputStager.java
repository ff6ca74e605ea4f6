package dev.javaonnxruntime.triton;

import dev.javaonnxruntime.batch.DeviceArena;
import dev.javaonnxruntime.cache.CacheCapacityException;
import dev.javaonnxruntime.config.DataType;
import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.cuda.CudaRuntime;
import dev.javaonnxruntime.cuda.DeviceAllocationException;
import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.cuda.DeviceReader;
import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.onnx.InputTensor;
import dev.javaonnxruntime.triton.InputPlacement.Copy;
import dev.javaonnxruntime.triton.InputPlacement.Route;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;

/**
 * Puts each batch's inputs where the session reads them, with as few copies as the sources allow,
 * by the instance's {@link InputPlacement} rule: a lone request's input already in the memory the
 * instance computes in (one host buffer on the CPU, one buffer on the instance's own GPU) is bound
 * in place; a lone cached input is bound at its device address; everything else is gathered into
 * the instance's arena for that input, each buffer copied the way its location needs: pageable
 * host bytes through the instance's pinned staging buffer with one asynchronous copy on the
 * instance's stream (never a pageable copy, never the default stream), pinned host bytes
 * straight, another GPU's by a peer copy, and GPU bytes for a CPU instance device-to-host. An
 * input the instance cannot reach fails its request alone, when it is resolved.
 *
 * <p>Owns the staging buffer, the arenas and the device reader (closed with the instance). Used
 * only on the instance's execute thread. Staging space is handed out by a bump pointer that {@link
 * #begin} resets, because a region may still be read by an enqueued copy until the stream is
 * synchronised.
 */
class InputStager implements AutoCloseable {
  protected final DeviceMemory memory;
  protected final Stream stream;
  protected final boolean gpu;
  protected final InputPlacement placement;
  /** {@code input_staging: "ort"}: hand ORT host tensors and let it copy, as stock Triton does. */
  private final boolean ortCopies;
  private final StagingArea staging;
  private final Map<String, DeviceArena> arenas = new HashMap<>();
  private final DeviceMemory hostMemory;
  private final Map<String, DeviceArena> hostArenas = new HashMap<>();
  /** GPU memory to the host, for a CPU instance: an input in a client's CUDA shared memory. */
  private final DeviceReader reader;

  InputStager(DeviceMemory memory, Stream stream, boolean gpu, boolean ortCopies, DeviceMemory host) {
    this(memory, stream, gpu, ortCopies, host,
        new InputPlacement(gpu ? memory.deviceId() : -1, CudaRuntime::deviceCount), DeviceReader.cuda());
  }

  /** With the rule and the device reader given (tests stand host memory in for GPUs). */
  InputStager(DeviceMemory memory, Stream stream, boolean gpu, boolean ortCopies, DeviceMemory host,
      InputPlacement placement, DeviceReader reader) {
    this.memory = memory;
    this.stream = stream;
    this.gpu = gpu;
    this.ortCopies = gpu && ortCopies;
    this.hostMemory = host;
    this.placement = placement;
    this.reader = reader;
    this.staging = gpu ? new StagingArea(memory.newStagingBuffer(1 << 20), stream) : null;
  }

  /** Sizes the staging buffer for this Execute: no host byte is staged twice. */
  void begin(List<RequestData> requests) {
    if (staging != null) {
      staging.begin(requests);
    }
  }

  /** Resolves where each input of a checked request comes from; the cache overrides this. */
  void resolve(RequestData r, List<TensorConfig> inputs) throws Exception {
    for (TensorConfig c : inputs) {
      InputView v = r.inputs.get(c.name());
      if (v == null) {
        throw new TritonException(TritonException.NOT_FOUND, "input '" + c.name()
            + "' was not sent and the input cache is off for it (input_cache 'off'): resend the data");
      }
      r.sources.put(c.name(), RequestData.Source.of(v, placement.route(v)));
    }
  }

  /** The tensor to bind for input {@code c} of a batch of requests sharing its shape. */
  InputTensor prepare(List<RequestData> group, TensorConfig c, long[] shape)
      throws DeviceAllocationException {
    if (ortCopies && group.stream().allMatch(r -> onHost(r.sources.get(c.name())))) {
      return prepareForOrtCopy(group, c, shape);
    }
    long total = 0;
    for (RequestData r : group) {
      total += r.sources.get(c.name()).byteSize();
    }
    if (group.size() == 1) {
      RequestData.Source s = group.get(0).sources.get(c.name());
      if (s.view() == null) {
        return new InputTensor(c.name(), c.dataType(), s.device(), total, shape, gpu);
      }
      if (s.route().inPlace()) { // host memory on the CPU, or this instance's own GPU
        return new InputTensor(c.name(), c.dataType(), s.view().contiguousAddress(), total, shape, gpu);
      }
    }
    long dst = arenas.computeIfAbsent(c.name(), n -> new DeviceArena(memory)).ensure(Math.max(total, 1));
    fill(group, c, dst);
    return new InputTensor(c.name(), c.dataType(), dst, total, shape, gpu);
  }

  private static boolean onHost(RequestData.Source s) {
    return s.view() != null && s.view().onHost();
  }

  /**
   * Gathers input {@code c} of every request of the batch, in order, at address {@code dst} of
   * the instance's memory (an arena, or a CUDA graph's fixed buffer): device-to-device from cached
   * sources, and Triton's buffers each by its route, all on the instance stream.
   */
  void fill(List<RequestData> group, TensorConfig c, long dst) {
    long offset = 0;
    for (RequestData r : group) {
      RequestData.Source s = r.sources.get(c.name());
      if (s.view() == null) {
        memory.copyDeviceToDevice(dst + offset, s.device(), s.byteSize(), stream);
      } else {
        copyInto(s.view(), s.route(), dst + offset);
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
    InputView first = group.get(0).sources.get(c.name()).view();
    if (group.size() == 1 && first.contiguousAddress() != 0) {
      return new InputTensor(c.name(), c.dataType(), first.contiguousAddress(), total, shape, false);
    }
    long dst = hostArenas.computeIfAbsent(c.name(), n -> new DeviceArena(hostMemory)).ensure(Math.max(total, 1));
    long offset = 0;
    for (RequestData r : group) {
      gather(r.sources.get(c.name()).view(), dst + offset);
      offset += r.sources.get(c.name()).byteSize();
    }
    return new InputTensor(c.name(), c.dataType(), dst, total, shape, false);
  }

  /**
   * Copies input {@code v} (its buffers in order, wherever they are) to address {@code dst} of
   * the instance's memory, each buffer as {@code route} says. Pageable host buffers go through
   * pinned staging: all of them in one async copy when the input has no other kind.
   */
  protected void copyInto(InputView v, Route route, long dst) {
    Copy[] copies = route.copies();
    if (gpu && allOf(copies, Copy.HOST_TO_DEVICE)) {
      long region = staging.stage(v.byteSize());
      gather(v, region);
      memory.copyHostToDevice(dst, region, v.byteSize(), stream);
      return;
    }
    long offset = 0;
    for (int b = 0; b < copies.length; b++) {
      long src = v.addresses()[b];
      long size = v.sizes()[b];
      long to = dst + offset;
      offset += size;
      if (size == 0) {
        continue;
      }
      switch (copies[b]) {
        case HOST_TO_HOST -> Pointer.memcpy(Handles.at(to), Handles.at(src), size);
        case HOST_TO_DEVICE -> {
          long region = staging.stage(size);
          Pointer.memcpy(Handles.at(region), Handles.at(src), size);
          memory.copyHostToDevice(to, region, size, stream);
        }
        case PINNED_TO_DEVICE -> memory.copyHostToDevice(to, src, size, stream);
        case DEVICE_TO_DEVICE -> memory.copyDeviceToDevice(to, src, size, stream);
        case PEER_TO_DEVICE -> memory.copyPeerToDevice(to, src, gpuOf(v, b), size, stream);
        case DEVICE_TO_HOST -> reader.copyToHost(to, src, gpuOf(v, b), size);
        default -> throw new IllegalStateException("no copy for " + copies[b]);
      }
    }
  }

  private static boolean allOf(Copy[] copies, Copy kind) {
    for (Copy c : copies) {
      if (c != kind) {
        return false;
      }
    }
    return copies.length > 0;
  }

  private static int gpuOf(InputView v, int buffer) {
    return ((BufferLocation.Gpu) v.locations()[buffer]).device();
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
    if (staging != null) {
      staging.reset();
    }
  }

  @Override
  public void close() {
    arenas.values().forEach(DeviceArena::close);
    arenas.clear();
    hostArenas.values().forEach(DeviceArena::close);
    hostArenas.clear();
    reader.close();
    if (staging != null) {
      staging.close();
    }
  }
}
