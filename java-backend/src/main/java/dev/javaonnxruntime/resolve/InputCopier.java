package dev.javaonnxruntime.resolve;

import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.cuda.DeviceReader;
import dev.javaonnxruntime.cuda.HostBytes;
import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.read.BufferLocation;
import dev.javaonnxruntime.read.InputView;
import dev.javaonnxruntime.read.RequestData;
import dev.javaonnxruntime.resolve.InputPlacement.Copy;
import dev.javaonnxruntime.resolve.InputPlacement.Route;
import java.util.List;

/**
 * Copies a request input's buffers into the instance's memory (a cache entry, a batch's arena, a
 * CUDA graph's input buffer), each buffer the way its {@link Route} says: pageable host bytes
 * through the instance's pinned staging buffer with one asynchronous copy on the instance's stream
 * (never a pageable copy, never the default stream), pinned host bytes straight, another GPU's by
 * a peer copy, and GPU bytes for a CPU instance device-to-host.
 *
 * <p>Owns the staging area and the device reader (closed with the instance). Used only on the
 * instance's execute thread. Staging space is handed out by a bump pointer that {@link #begin}
 * resets, because a region may still be read by an enqueued copy until the stream is synchronised.
 */
public final class InputCopier implements AutoCloseable {
  private final DeviceMemory memory;
  private final Stream stream;
  private final boolean gpu;
  private final StagingArea staging;
  /** GPU memory to the host, for a CPU instance: an input in a client's CUDA shared memory. */
  private final DeviceReader reader;

  InputCopier(DeviceMemory memory, Stream stream, boolean gpu, DeviceReader reader) {
    this.memory = memory;
    this.stream = stream;
    this.gpu = gpu;
    this.reader = reader;
    this.staging = gpu ? new StagingArea(memory.newStagingBuffer(1 << 20), stream) : null;
  }

  /** The memory it copies into. */
  public DeviceMemory memory() {
    return memory;
  }

  /** The stream its copies are enqueued on. */
  public Stream stream() {
    return stream;
  }

  /** Whether the instance computes on a GPU. */
  public boolean gpu() {
    return gpu;
  }

  /** Sizes the staging buffer for this Execute: no host byte is staged twice. */
  void begin(List<RequestData> requests) {
    if (staging != null) {
      staging.begin(requests);
    }
  }

  /**
   * Copies input {@code v} (its buffers in order, wherever they are) to address {@code dst} of
   * the instance's memory, each buffer as {@code route} says. Pageable host buffers go through
   * pinned staging: all of them in one async copy when the input has no other kind.
   */
  public void copyInto(InputView v, Route route, long dst) {
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
        case HOST_TO_HOST -> HostBytes.copy(to, src, size);
        case HOST_TO_DEVICE -> {
          long region = staging.stage(size);
          HostBytes.copy(region, src, size);
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
  public static void gather(InputView v, long dst) {
    long offset = 0;
    for (int b = 0; b < v.addresses().length; b++) {
      if (v.sizes()[b] > 0) {
        HostBytes.copy(dst + offset, v.addresses()[b], v.sizes()[b]);
      }
      offset += v.sizes()[b];
    }
  }

  /** Called after the instance's stream has been synchronised: nothing reads staging any more. */
  void finish() {
    if (staging != null) {
      staging.reset();
    }
  }

  /** Closes the reader and the staging area. */
  @Override
  public void close() {
    reader.close();
    if (staging != null) {
      staging.close();
    }
  }
}
