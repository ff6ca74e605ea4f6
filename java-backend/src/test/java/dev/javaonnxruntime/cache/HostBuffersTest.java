package dev.javaonnxruntime.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class HostBuffersTest {
  @Test
  void collectsBuffersInOrderAndSumsTheirLengths() {
    HostBuffers.Builder builder = HostBuffers.builder();
    for (int i = 1; i <= 9; i++) {
      builder.add(0x1000L * i, i);
    }
    HostBuffers buffers = builder.build();
    assertEquals(9, buffers.count());
    assertEquals(45, buffers.totalLength());
    assertEquals(0x9000L, buffers.address(8));
    assertEquals(9, buffers.length(8));
  }

  @Test
  void copiesTheArraysItIsGiven() {
    long[] addresses = {0x1000};
    long[] lengths = {8};
    HostBuffers buffers = HostBuffers.of(addresses, lengths);
    lengths[0] = 99;
    assertEquals(8, buffers.totalLength());
  }

  @Test
  void rejectsNegativeLengthsNullAddressesAndMismatchedArrays() {
    assertThrows(IllegalArgumentException.class, () -> HostBuffers.single(0x1000, -1));
    assertThrows(IllegalArgumentException.class, () -> HostBuffers.single(0, 4));
    assertThrows(
        IllegalArgumentException.class, () -> HostBuffers.of(new long[] {1, 2}, new long[] {1}));
  }
}
