package dev.javaonnxruntime.batch;

import dev.javaonnxruntime.cuda.DeviceAllocationException;
import dev.javaonnxruntime.cuda.DeviceMemory;

/**
 * One growing block of device memory (host memory for a CPU instance) that an instance gathers a
 * batched input or stages an uncached input into, reused across Executes so the steady state
 * allocates nothing.
 *
 * <p>Ownership: the instance owns it and closes it from instance finalize; growing frees the old
 * block, which is safe only after the instance has synchronised its stream (it does, once per
 * Execute, before reusing the arena). Not thread-safe: one instance thread uses it.
 */
public final class DeviceArena implements AutoCloseable {
  private final DeviceMemory memory;
  private long address;
  private long capacity;

  public DeviceArena(DeviceMemory memory) {
    this.memory = memory;
  }

  /** An address of at least {@code bytes}; contents are not kept when the arena grows. */
  public long ensure(long bytes) throws DeviceAllocationException {
    if (bytes <= capacity) {
      return address;
    }
    long size = Math.max(bytes, capacity + capacity / 2);
    long fresh = memory.allocate(size);
    if (address != 0) {
      memory.free(address);
    }
    address = fresh;
    capacity = size;
    return address;
  }

  public long capacity() {
    return capacity;
  }

  @Override
  public void close() {
    if (address != 0) {
      memory.free(address);
      address = 0;
      capacity = 0;
    }
  }
}
