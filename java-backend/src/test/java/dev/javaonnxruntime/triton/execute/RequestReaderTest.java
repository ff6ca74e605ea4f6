package dev.javaonnxruntime.triton.execute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.javaonnxruntime.read.BufferLocation;
import dev.javaonnxruntime.read.TritonException;
import org.junit.jupiter.api.Test;

class RequestReaderTest {
  @Test
  void keepsTheMemoryTypeAndIdTritonNamed() {
    assertSame(BufferLocation.CPU, RequestReader.location("x", 0, 0));
    assertEquals(new BufferLocation.Cpu(1), RequestReader.location("x", 0, 1));
    assertEquals(new BufferLocation.CpuPinned(0), RequestReader.location("x", 1, 0));
    assertEquals(new BufferLocation.Gpu(3), RequestReader.location("x", 2, 3));
  }

  @Test
  void refusesAMemoryTypeItDoesNotKnowNamingTheInput() {
    TritonException e = assertThrows(TritonException.class, () -> RequestReader.location("image", 7, 0));
    assertEquals(TritonException.UNSUPPORTED, e.code());
    assertTrue(e.getMessage().contains("input 'image'") && e.getMessage().contains("memory type 7, id 0"),
        e.getMessage());
  }

  @Test
  void refusesANegativeGpuId() {
    assertThrows(TritonException.class, () -> RequestReader.location("image", 2, -1));
  }
}
