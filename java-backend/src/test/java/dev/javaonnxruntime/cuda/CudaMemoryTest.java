package dev.javaonnxruntime.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Needs a GPU; skipped where libcudart does not load or reports no device. */
@Tag("gpu")
class CudaMemoryTest {
  @BeforeEach
  void needsGpu() {
    assumeTrue(CudaRuntime.deviceCount() > 0, () -> "no CUDA device: " + CudaRuntime.unavailabilityCause());
  }

  @Test
  void copiesBytesToDeviceAndBackOnItsOwnStream() throws Exception {
    CudaMemory memory = new CudaMemory(0);
    byte[] bytes = new byte[1 << 20];
    new java.util.Random(1).nextBytes(bytes);
    try (StagingBuffer staging = memory.newStagingBuffer(bytes.length);
        StagingBuffer back = memory.newStagingBuffer(bytes.length);
        Stream stream = memory.newStream();
        Stream other = memory.newStream()) {
      staging.put(0, bytes);
      long a = memory.allocate(bytes.length);
      long b = memory.allocate(bytes.length);
      try (Fence written = copyAndFence(memory, a, staging, bytes.length, stream)) {
        written.awaitOn(other); // the second stream reads what the first wrote
        memory.copyDeviceToDevice(b, a, bytes.length, other);
        memory.copyDeviceToHost(back.address(), b, bytes.length, other);
        other.synchronize();
      } finally {
        stream.synchronize();
        memory.free(a);
        memory.free(b);
      }
      byte[] result = new byte[bytes.length];
      back.get(0, result);
      assertArrayEquals(bytes, result);
    }
  }

  private static Fence copyAndFence(
      CudaMemory memory, long dst, StagingBuffer src, long bytes, Stream stream) {
    memory.copyHostToDevice(dst, src.address(), bytes, stream);
    return memory.recordFence(stream);
  }

  @Test
  void copiesFromAnotherDevicePeerToPeerOnTheDestinationsStream() throws Exception {
    assumeTrue(CudaRuntime.deviceCount() > 1, "needs two CUDA devices");
    CudaMemory source = new CudaMemory(1);
    CudaMemory memory = new CudaMemory(0);
    byte[] bytes = new byte[1 << 16];
    new java.util.Random(2).nextBytes(bytes);
    try (StagingBuffer staging = memory.newStagingBuffer(bytes.length);
        StagingBuffer back = memory.newStagingBuffer(bytes.length);
        Stream sourceStream = source.newStream();
        Stream stream = memory.newStream()) {
      staging.put(0, bytes);
      long a = source.allocate(bytes.length);
      long b = memory.allocate(bytes.length);
      try {
        source.copyHostToDevice(a, staging.address(), bytes.length, sourceStream);
        sourceStream.synchronize();
        memory.copyPeerToDevice(b, a, 1, bytes.length, stream);
        memory.copyDeviceToHost(back.address(), b, bytes.length, stream);
        stream.synchronize();
      } finally {
        source.free(a);
        memory.free(b);
      }
      byte[] result = new byte[bytes.length];
      back.get(0, result);
      assertArrayEquals(bytes, result);
    }
  }

  @Test
  void reportsAnImpossibleAllocationAsDeviceAllocationException() {
    CudaMemory memory = new CudaMemory(0);
    assertThrows(DeviceAllocationException.class, () -> memory.allocate(1L << 50));
  }

  @Test
  void refusesHostStreamForDeviceCopies() throws Exception {
    CudaMemory memory = new CudaMemory(0);
    long block = memory.allocate(16);
    try {
      assertThrows(
          IllegalArgumentException.class,
          () -> memory.copyDeviceToDevice(block, block, 16, HostStream.INSTANCE));
    } finally {
      memory.free(block);
    }
  }
}
