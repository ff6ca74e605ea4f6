package dev.javaonnxruntime.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BufferLocationTest {
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
}
