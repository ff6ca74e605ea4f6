package dev.javaonnxruntime.resolve;

import dev.javaonnxruntime.read.BufferLocation;
import dev.javaonnxruntime.read.InputView;
import dev.javaonnxruntime.read.TritonException;
import java.util.function.IntSupplier;

/**
 * The rule by which one instance takes a request input, decided from where Triton says each of
 * its buffers is ({@link BufferLocation}) and where the instance computes: the CPU, or one GPU.
 * Stock backends follow the same rule through Triton's backend_input_collector: an input already
 * in memory the instance computes in is used where it is, anything else is copied there.
 *
 * <ul>
 *   <li>Bound in place: one buffer in host memory (pageable or pinned) on a CPU instance, or one
 *       buffer in the instance's own GPU's memory on a GPU instance.
 *   <li>Copied, buffer by buffer, into memory of the instance (a batch's arena, a cache entry, a
 *       CUDA graph's input buffer): host to host on a CPU instance; device to host from a GPU on
 *       a CPU instance; on a GPU instance, pageable host memory through the pinned staging
 *       buffer, pinned host memory directly, device to device from its own GPU, and a peer copy
 *       from another GPU, all on the instance's stream.
 *   <li>Refused, for that request alone (UNSUPPORTED, naming the input, its memory type and id,
 *       and the instance's device): GPU memory where the backend cannot reach CUDA, or on a device
 *       this process does not see.
 * </ul>
 *
 * So a device pointer is never read on the CPU, and another GPU's memory is never bound to this
 * GPU's session. Immutable and thread-safe. The CUDA device count is asked for only when a GPU
 * buffer arrives, so a machine without CUDA never loads it on this account.
 */
public final class InputPlacement {
  /** How one buffer reaches the instance's memory. */
  public enum Copy {
    /** Host memory to host memory ({@code memcpy}): a CPU instance. */
    HOST_TO_HOST,
    /** Pageable host memory to the instance's GPU, gathered into pinned staging first. */
    HOST_TO_DEVICE,
    /** Pinned host memory to the instance's GPU, straight (it is already page-locked). */
    PINNED_TO_DEVICE,
    /** The instance's own GPU: device to device on its stream. */
    DEVICE_TO_DEVICE,
    /** Another GPU to the instance's GPU: {@code cudaMemcpyPeerAsync} on its stream. */
    PEER_TO_DEVICE,
    /** A GPU to host memory: a CPU instance handed an input in GPU memory. */
    DEVICE_TO_HOST
  }

  /**
   * What the instance does with one input: bind its one buffer where it is ({@code inPlace}), or
   * copy its buffers into memory of its own, each as {@code copies} says (in buffer order; an
   * input bound in place alone is gathered that way when batched with other requests). Shared
   * routes are constants: never modify {@code copies}.
   *
   * @param inPlace whether its one buffer is bound where it is
   * @param copies how each buffer is copied when it is not
   */
  public record Route(boolean inPlace, Copy[] copies) {}

  private static final Route[] SINGLE = new Route[Copy.values().length];

  static {
    for (Copy c : Copy.values()) {
      SINGLE[c.ordinal()] = new Route(c == Copy.HOST_TO_HOST || c == Copy.DEVICE_TO_DEVICE, new Copy[] {c});
    }
  }

  private final int device;
  private final IntSupplier cudaDevices;

  /**
   * The rule for an instance computing on GPU {@code device}, or on the CPU for -1; {@code
   * cudaDevices} counts the CUDA devices this process sees (0 where CUDA cannot be loaded).
   */
  public InputPlacement(int device, IntSupplier cudaDevices) {
    this.device = device;
    this.cudaDevices = cudaDevices;
  }

  /** The instance's device as messages name it: "the CPU" or "GPU 0". */
  public String describeDevice() {
    return device < 0 ? "the CPU" : "GPU " + device;
  }

  /** How a buffer at {@code location} reaches this instance's memory. */
  public Copy copyFrom(BufferLocation location) {
    if (location instanceof BufferLocation.Gpu g) {
      if (device < 0) {
        return Copy.DEVICE_TO_HOST;
      }
      return g.device() == device ? Copy.DEVICE_TO_DEVICE : Copy.PEER_TO_DEVICE;
    }
    if (device < 0) {
      return Copy.HOST_TO_HOST;
    }
    return location instanceof BufferLocation.CpuPinned ? Copy.PINNED_TO_DEVICE : Copy.HOST_TO_DEVICE;
  }

  /**
   * The route of input {@code v} to this instance.
   *
   * @throws TritonException UNSUPPORTED when a buffer is in GPU memory the backend cannot reach
   */
  public Route route(InputView v) {
    BufferLocation[] locations = v.locations();
    for (BufferLocation l : locations) {
      if (l instanceof BufferLocation.Gpu g) {
        checkReachable(v, g);
      }
    }
    if (locations.length == 1) {
      return SINGLE[copyFrom(locations[0]).ordinal()];
    }
    Copy[] copies = new Copy[locations.length];
    for (int b = 0; b < locations.length; b++) {
      copies[b] = copyFrom(locations[b]);
    }
    return new Route(false, copies);
  }

  private void checkReachable(InputView v, BufferLocation.Gpu g) {
    int devices = cudaDevices.getAsInt();
    if (g.device() < devices) {
      return;
    }
    String where = "input '" + v.name() + "' is in " + g.describe() + ", but ";
    if (devices == 0) {
      throw new TritonException(TritonException.UNSUPPORTED, where + "java_onnxruntime cannot reach "
          + "CUDA in this process (no CUDA runtime or no device), and this instance computes on "
          + describeDevice() + ": send the input in host memory (in the request, or in system "
          + "shared memory)");
    }
    throw new TritonException(TritonException.UNSUPPORTED, where + "this process sees " + devices
        + " CUDA device(s); this instance computes on " + describeDevice());
  }
}
