package dev.javaonnxruntime.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HostMemoryTest {
  @Test
  void copiesBytesThereAndBackAndCountsLiveBytes() throws Exception {
    HostMemory memory = new HostMemory();
    byte[] bytes = {1, 2, 3, 4, 5};
    try (HostBuffer source = new HostBuffer(5);
        HostBuffer target = new HostBuffer(5);
        Stream stream = memory.newStream()) {
      source.put(0, bytes);
      long a = memory.allocate(5);
      long b = memory.allocate(5);
      assertEquals(10, memory.liveBytes());
      memory.copyHostToDevice(a, source.address(), 5, stream);
      memory.copyDeviceToDevice(b, a, 5, stream);
      memory.copyDeviceToHost(target.address(), b, 5, stream);
      stream.synchronize();
      byte[] back = new byte[5];
      target.get(0, back);
      assertArrayEquals(bytes, back);
      memory.free(a);
      memory.free(b);
    }
    assertEquals(0, memory.liveBytes());
    assertEquals(0, memory.liveAllocations());
  }

  @Test
  void failsInjectedAllocationsThenRecovers() throws Exception {
    HostMemory memory = new HostMemory();
    memory.failNextAllocations(2);
    assertThrows(DeviceAllocationException.class, () -> memory.allocate(8));
    DeviceAllocationException second =
        assertThrows(DeviceAllocationException.class, () -> memory.allocate(8));
    assertEquals(8, second.requestedBytes());
    memory.free(memory.allocate(8));
    assertEquals(0, memory.liveBytes());
  }

  @Test
  void refusesAllocationsBeyondCapacity() throws Exception {
    HostMemory memory = new HostMemory(100);
    long block = memory.allocate(60);
    DeviceAllocationException full =
        assertThrows(DeviceAllocationException.class, () -> memory.allocate(41));
    assertTrue(full.getMessage().contains("capacity 100"), full.getMessage());
    memory.free(block);
    memory.free(memory.allocate(100));
  }

  @Test
  void rejectsDoubleFree() throws Exception {
    HostMemory memory = new HostMemory();
    long block = memory.allocate(4);
    memory.free(block);
    assertThrows(IllegalStateException.class, () -> memory.free(block));
  }
}
