package dev.javaonnxruntime.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Needs a GPU; skipped where libcudart does not load or reports no device. */
@Tag("gpu")
class CudaDeviceReaderTest {
  @BeforeEach
  void needsGpu() {
    assumeTrue(CudaRuntime.deviceCount() > 0, () -> "no CUDA device: " + CudaRuntime.unavailabilityCause());
  }

  @Test
  void readsDeviceBytesIntoPageableHostMemoryBeforeReturning() throws Exception {
    CudaMemory memory = new CudaMemory(0);
    byte[] bytes = new byte[1 << 20];
    new java.util.Random(3).nextBytes(bytes);
    try (StagingBuffer staging = memory.newStagingBuffer(bytes.length);
        HostBuffer host = new HostBuffer(bytes.length);
        Stream stream = memory.newStream();
        DeviceReader reader = DeviceReader.cuda()) {
      staging.put(0, bytes);
      long block = memory.allocate(bytes.length);
      try {
        memory.copyHostToDevice(block, staging.address(), bytes.length, stream);
        stream.synchronize();
        reader.copyToHost(host.address(), block, 0, bytes.length);
      } finally {
        memory.free(block);
      }
      byte[] result = new byte[bytes.length];
      host.get(0, result); // no wait: the bytes are there when copyToHost returns
      assertArrayEquals(bytes, result);
    }
  }
}
