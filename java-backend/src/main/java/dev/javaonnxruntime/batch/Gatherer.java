package dev.javaonnxruntime.batch;

import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.cuda.DeviceAllocationException;
import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.onnx.InputTensor;
import dev.javaonnxruntime.read.InputView;
import dev.javaonnxruntime.resolve.InputCopier;
import dev.javaonnxruntime.resolve.InputSource;
import dev.javaonnxruntime.resolve.ResolvedRequest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The batch step's gather: puts each input of a batch where the session reads it, with as few
 * copies as the sources allow. A lone request's input already in the memory the instance computes
 * in (one host buffer on the CPU, one buffer on the instance's own GPU) is bound in place; a lone
 * cached input is bound at its device address; everything else is gathered into the instance's
 * arena for that input, request after request, each by its {@link InputCopier} route, on the
 * instance's stream.
 *
 * <p>Owns the arenas (closed with the instance). Used only on the instance's execute thread.
 */
public final class Gatherer implements AutoCloseable {
  private final InputCopier copier;
  private final DeviceMemory memory;
  /** {@code input_staging: "ort"}: hand ORT host tensors and let it copy, as stock Triton does. */
  private final boolean ortCopies;
  private final DeviceMemory hostMemory;
  private final Map<String, DeviceArena> arenas = new HashMap<>();
  private final Map<String, DeviceArena> hostArenas = new HashMap<>();

  /**
   * Gathers with {@code copier}; {@code ortCopies} hands host inputs to ORT in {@code hostMemory}
   * arenas instead.
   */
  public Gatherer(InputCopier copier, boolean ortCopies, DeviceMemory hostMemory) {
    this.copier = copier;
    this.memory = copier.memory();
    this.ortCopies = ortCopies;
    this.hostMemory = hostMemory;
  }

  /** The tensor to bind for input {@code i} (config order, config {@code c}) of {@code batch}. */
  public InputTensor prepare(Batch batch, int i, TensorConfig c) throws DeviceAllocationException {
    List<ResolvedRequest> group = batch.requests();
    long[] shape = batch.shapes().get(i);
    boolean gpu = copier.gpu();
    if (ortCopies && group.stream().allMatch(r -> onHost(r.source(c.name())))) {
      return prepareForOrtCopy(group, c, shape);
    }
    long total = 0;
    for (ResolvedRequest r : group) {
      total += r.source(c.name()).byteSize();
    }
    if (group.size() == 1) {
      InputSource s = group.get(0).source(c.name());
      if (s instanceof InputSource.Resident d) {
        return new InputTensor(c.name(), c.dataType(), d.address(), total, shape, gpu);
      }
      InputSource.FromRequest f = (InputSource.FromRequest) s;
      if (f.route().inPlace()) { // host memory on the CPU, or this instance's own GPU
        return new InputTensor(c.name(), c.dataType(), f.view().contiguousAddress(), total, shape, gpu);
      }
    }
    long dst = arenas.computeIfAbsent(c.name(), n -> new DeviceArena(memory)).ensure(Math.max(total, 1));
    fill(batch, c, dst);
    return new InputTensor(c.name(), c.dataType(), dst, total, shape, gpu);
  }

  private static boolean onHost(InputSource s) {
    return s instanceof InputSource.FromRequest f && f.view().onHost();
  }

  /**
   * Gathers input {@code c} of every request of the batch, in order, at address {@code dst} of
   * the instance's memory (an arena, or a CUDA graph's fixed buffer): device-to-device from cached
   * sources, and Triton's buffers each by its route, all on the instance stream.
   */
  public void fill(Batch batch, TensorConfig c, long dst) {
    long offset = 0;
    for (ResolvedRequest r : batch.requests()) {
      InputSource s = r.source(c.name());
      if (s instanceof InputSource.Resident d) {
        memory.copyDeviceToDevice(dst + offset, d.address(), d.byteSize(), copier.stream());
      } else {
        InputSource.FromRequest f = (InputSource.FromRequest) s;
        copier.copyInto(f.view(), f.route(), dst + offset);
      }
      offset += s.byteSize();
    }
  }

  /**
   * The ids of the cache entries input {@code c} of the batch comes from, in request order
   * ({@link InputSource.Resident#entryId}), or null where any request carries its own bytes:
   * {@link #fill} of two batches with equal ids writes equal bytes.
   */
  public static long[] entryIds(Batch batch, TensorConfig c) {
    List<ResolvedRequest> group = batch.requests();
    long[] ids = new long[group.size()];
    for (int i = 0; i < ids.length; i++) {
      if (!(group.get(i).source(c.name()) instanceof InputSource.Resident d)) {
        return null;
      }
      ids[i] = d.entryId();
    }
    return ids;
  }

  /**
   * The stock backend's way, kept for comparison: the input stays in (pageable) host memory and
   * ORT's CUDA provider copies it to the device inside Run.
   */
  private InputTensor prepareForOrtCopy(List<ResolvedRequest> group, TensorConfig c, long[] shape)
      throws DeviceAllocationException {
    long total = group.stream().mapToLong(r -> r.source(c.name()).byteSize()).sum();
    InputView first = view(group.get(0), c);
    if (group.size() == 1 && first.contiguousAddress() != 0) {
      return new InputTensor(c.name(), c.dataType(), first.contiguousAddress(), total, shape, false);
    }
    long dst = hostArenas.computeIfAbsent(c.name(), n -> new DeviceArena(hostMemory)).ensure(Math.max(total, 1));
    long offset = 0;
    for (ResolvedRequest r : group) {
      InputCopier.gather(view(r, c), dst + offset);
      offset += r.source(c.name()).byteSize();
    }
    return new InputTensor(c.name(), c.dataType(), dst, total, shape, false);
  }

  private static InputView view(ResolvedRequest r, TensorConfig c) {
    return ((InputSource.FromRequest) r.source(c.name())).view();
  }

  /** Frees the arenas. */
  @Override
  public void close() {
    arenas.values().forEach(DeviceArena::close);
    arenas.clear();
    hostArenas.values().forEach(DeviceArena::close);
    hostArenas.clear();
  }
}
