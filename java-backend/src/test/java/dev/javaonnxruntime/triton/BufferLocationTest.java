package dev.javaonnxruntime.triton;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BufferLocationTest {
  @Test
  void keepsTheMemoryTypeAndIdTritonNamed() {
    assertSame(BufferLocation.CPU, BufferLocation.of("x", 0, 0));
    assertEquals(new BufferLocation.Cpu(1), BufferLocation.of("x", 0, 1));
    assertEquals(new BufferLocation.CpuPinned(0), BufferLocation.of("x", 1, 0));
    assertEquals(new BufferLocation.Gpu(3), BufferLocation.of("x", 2, 3));
  }

  @Test
  void saysHostMemoryIsPageableOrPinnedAndNothingElse() {
    assertTrue(BufferLocation.CPU.onHost());
    assertTrue(new BufferLocation.CpuPinned(0).onHost());
    assertFalse(new BufferLocation.Gpu(0).onHost());
  }

  @Test
  void describesItselfAsTritonNamesMemoryTypes() {
    assertEquals("memory type CPU, id 0", BufferLocation.CPU.describe());
    assertEquals("memory type CPU_PINNED, id 0", new BufferLocation.CpuPinned(0).describe());
    assertEquals("memory type GPU, id 1", new BufferLocation.Gpu(1).describe());
  }

  @Test
  void refusesAMemoryTypeItDoesNotKnowNamingTheInput() {
    TritonException e = assertThrows(TritonException.class, () -> BufferLocation.of("image", 7, 0));
    assertEquals(TritonException.UNSUPPORTED, e.code());
    assertTrue(e.getMessage().contains("input 'image'") && e.getMessage().contains("memory type 7, id 0"),
        e.getMessage());
  }

  @Test
  void refusesANegativeGpuId() {
    assertThrows(TritonException.class, () -> BufferLocation.of("image", 2, -1));
  }
}
