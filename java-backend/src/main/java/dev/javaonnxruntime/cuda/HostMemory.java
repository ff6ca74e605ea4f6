package dev.javaonnxruntime.cuda;

import dev.javaonnxruntime.lifecycle.Faults;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.Pointer;

/**
 * {@link DeviceMemory} in host memory ({@code malloc}): the "device" of KIND_CPU instances, and
 * the memory of every test that runs without a GPU.
 *
 * <p>Why it has test hooks: it counts live blocks and bytes, so tests can assert that the cache
 * freed everything; it can enforce a capacity, and {@link #failNextAllocations} injects allocation
 * failures, so the cache's evict-and-retry path runs in CI. It rejects a free of an unknown
 * address (a double free) with {@link IllegalStateException}.
 *
 * <p>Ownership: blocks belong to whoever allocated them until freed; this object does not free
 * leftovers (a leak must stay visible in {@link #liveBytes}). Copies are synchronous; the stream
 * argument is ignored. Thread-safe.
 */
public final class HostMemory implements DeviceMemory {
  private final long capacityBytes;
  private final ConcurrentHashMap<Long, Long> live = new ConcurrentHashMap<>();
  private final AtomicLong liveBytes = new AtomicLong();
  private final AtomicInteger failuresToInject = new AtomicInteger();
  private final int deviceId;

  /** Host memory without a capacity limit. */
  public HostMemory() {
    this(Long.MAX_VALUE);
  }

  /** Host memory that refuses allocations beyond {@code capacityBytes} live bytes. */
  public HostMemory(long capacityBytes) {
    this(-1, capacityBytes);
  }

  /**
   * Host memory standing in for device {@code deviceId} (tests of several devices without a GPU:
   * each logical device gets its own memory, cache and budget, as each GPU does).
   */
  public HostMemory(int deviceId, long capacityBytes) {
    if (capacityBytes <= 0) {
      throw new IllegalArgumentException("capacityBytes must be > 0, got " + capacityBytes);
    }
    this.capacityBytes = capacityBytes;
    this.deviceId = deviceId;
  }

  /** Makes the next {@code count} calls to {@link #allocate} fail (test hook). */
  public void failNextAllocations(int count) {
    failuresToInject.set(count);
  }

  /** Bytes allocated and not yet freed. */
  public long liveBytes() {
    return liveBytes.get();
  }

  /** Blocks allocated and not yet freed. */
  public int liveAllocations() {
    return live.size();
  }

  @Override
  public int deviceId() {
    return deviceId;
  }

  @Override
  public long allocate(long bytes) throws DeviceAllocationException {
    if (bytes <= 0) {
      throw new IllegalArgumentException("allocation size must be > 0, got " + bytes);
    }
    if (failuresToInject.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
      throw new DeviceAllocationException("injected allocation failure of " + bytes + " bytes", bytes);
    }
    if (liveBytes.addAndGet(bytes) > capacityBytes) {
      liveBytes.addAndGet(-bytes);
      throw new DeviceAllocationException(
          "host memory capacity " + capacityBytes + " bytes exceeded by a request of " + bytes,
          bytes);
    }
    Pointer block = Pointer.malloc(bytes);
    if (block == null || block.isNull()) {
      liveBytes.addAndGet(-bytes);
      throw new DeviceAllocationException("malloc of " + bytes + " bytes failed", bytes);
    }
    live.put(block.address(), bytes);
    return block.address();
  }

  @Override
  public void free(long address) {
    Long bytes = live.remove(address);
    if (bytes == null) {
      throw new IllegalStateException(
          "free of address 0x" + Long.toHexString(address) + " that is not a live allocation");
    }
    Pointer.free(NativeAddress.at(address));
    liveBytes.addAndGet(-bytes);
    Faults.at("memory.free"); // test seam: a free that fails once it has freed
  }

  @Override
  public void copyHostToDevice(long dst, long src, long bytes, Stream stream) {
    NativeAddress.copy(dst, src, bytes);
  }

  @Override
  public void copyDeviceToDevice(long dst, long src, long bytes, Stream stream) {
    NativeAddress.copy(dst, src, bytes);
  }

  @Override
  public void copyDeviceToHost(long dst, long src, long bytes, Stream stream) {
    NativeAddress.copy(dst, src, bytes);
  }

  /** Another logical device's memory is host memory too (tests of several devices). */
  @Override
  public void copyPeerToDevice(long dst, long src, int srcDevice, long bytes, Stream stream) {
    NativeAddress.copy(dst, src, bytes);
  }

  @Override
  public Stream newStream() {
    return HostStream.INSTANCE;
  }

  @Override
  public Fence recordFence(Stream stream) {
    return Fence.REACHED;
  }

  @Override
  public StagingBuffer newStagingBuffer(long initialBytes) {
    return new HostBuffer(initialBytes);
  }
}
