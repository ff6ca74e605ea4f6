package dev.javaonnxruntime.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class HostBufferTest {
  @Test
  void growsOnlyWhenAskedForMoreThanItHolds() {
    try (HostBuffer buffer = new HostBuffer(0)) {
      assertEquals(0, buffer.address());
      long first = buffer.ensureCapacity(100);
      assertEquals(first, buffer.ensureCapacity(50));
      buffer.ensureCapacity(1000);
      assertEquals(1000, buffer.capacity());
      byte[] bytes = {9, 8, 7};
      buffer.put(997, bytes);
      byte[] back = new byte[3];
      buffer.get(997, back);
      assertArrayEquals(bytes, back);
    }
  }

  @Test
  void checksBoundsAndNamesTheNumbers() {
    try (HostBuffer buffer = new HostBuffer(4)) {
      IndexOutOfBoundsException error =
          assertThrows(IndexOutOfBoundsException.class, () -> buffer.put(2, new byte[3]));
      assertEquals("offset=2 length=3 is beyond capacity=4", error.getMessage());
    }
  }

  @Test
  void releasesMemoryOnCloseAndToleratesSecondClose() {
    HostBuffer buffer = new HostBuffer(16);
    buffer.close();
    buffer.close();
    assertEquals(0, buffer.address());
    assertThrows(IllegalStateException.class, () -> buffer.ensureCapacity(32));
  }
}
