package dev.javaonnxruntime.batch;

import dev.javaonnxruntime.cuda.DeviceAllocationException;
import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.cuda.Fence;
import dev.javaonnxruntime.cuda.HostMemory;
import dev.javaonnxruntime.cuda.StagingBuffer;
import dev.javaonnxruntime.cuda.Stream;
import java.util.ArrayList;
import java.util.List;

/** Host memory standing in for GPU 0 that logs each copy it is asked for. */
final class CountingMemory implements DeviceMemory {
  private final HostMemory memory;
  final StringBuilder log = new StringBuilder();
  final List<Long> h2dSources = new ArrayList<>();

  CountingMemory(HostMemory memory) {
    this.memory = memory;
  }

  @Override
  public int deviceId() {
    return memory.deviceId();
  }

  @Override
  public long allocate(long bytes) throws DeviceAllocationException {
    return memory.allocate(bytes);
  }

  @Override
  public void free(long address) {
    memory.free(address);
  }

  @Override
  public void copyHostToDevice(long dst, long src, long bytes, Stream stream) {
    log.append("h2d ");
    h2dSources.add(src);
    memory.copyHostToDevice(dst, src, bytes, stream);
  }

  @Override
  public void copyDeviceToDevice(long dst, long src, long bytes, Stream stream) {
    log.append("d2d ");
    memory.copyDeviceToDevice(dst, src, bytes, stream);
  }

  @Override
  public void copyDeviceToHost(long dst, long src, long bytes, Stream stream) {
    log.append("d2h ");
    memory.copyDeviceToHost(dst, src, bytes, stream);
  }

  @Override
  public void copyPeerToDevice(long dst, long src, int srcDevice, long bytes, Stream stream) {
    log.append("peer(").append(srcDevice).append(") ");
    memory.copyPeerToDevice(dst, src, srcDevice, bytes, stream);
  }

  @Override
  public Stream newStream() {
    return memory.newStream();
  }

  @Override
  public Fence recordFence(Stream stream) {
    return memory.recordFence(stream);
  }

  @Override
  public StagingBuffer newStagingBuffer(long initialBytes) {
    return memory.newStagingBuffer(initialBytes);
  }
}
