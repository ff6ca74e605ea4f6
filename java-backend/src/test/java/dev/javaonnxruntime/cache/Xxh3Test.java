package dev.javaonnxruntime.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.javaonnxruntime.cuda.HostBuffer;
import org.junit.jupiter.api.Test;

class Xxh3Test {
  /**
   * Reference values from libxxhash 0.8.1 XXH3_128bits over bytes (i * 31 + 7); XXH3's output is
   * the same in every xxHash from 0.8.0 on.
   */
  private static final long[][] REFERENCE = {
    {0, 0x99aa06d3014798d8L, 0x6001c324468d497fL},
    {3, 0x46f66cb935381565L, 0x15f7093b173d005cL},
    {100, 0x7f5a1f03462e52b4L, 0xd61d8dbff22d515fL},
    {240, 0xde57aab31e77a2ffL, 0x93e173833f75ab66L},
    {1000, 0xf534f51e82a81d29L, 0x989765d0ea7a5ecdL},
    {100000, 0x8ce7a24d31cd94b1L, 0xccf90df7e7e37036L},
    {3000000, 0x137e4aed28924fe8L, 0x6fd5beba0d5c95c2L},
  };

  private static byte[] referenceBytes(int length) {
    byte[] bytes = new byte[length];
    for (int i = 0; i < length; i++) {
      bytes[i] = (byte) (i * 31 + 7);
    }
    return bytes;
  }

  @Test
  void matchesLibxxhashReferenceValues() {
    try (HostBuffer buffer = TestBytes.hostCopy(referenceBytes(3_000_000))) {
      for (long[] row : REFERENCE) {
        long[] out = new long[2];
        Xxh3.hash128(new long[] {buffer.address()}, new long[] {row[0]}, 1, out);
        assertArrayEquals(new long[] {row[1], row[2]}, out, "length " + row[0]);
      }
    }
  }

  @Test
  void baselinePathMatchesLibxxhashReferenceValues() {
    try (HostBuffer buffer = TestBytes.hostCopy(referenceBytes(3_000_000))) {
      for (long[] row : REFERENCE) {
        long[] out = new long[2];
        Xxh3.hash128Baseline(new long[] {buffer.address()}, new long[] {row[0]}, 1, null, out);
        assertArrayEquals(new long[] {row[1], row[2]}, out, "length " + row[0]);
      }
    }
  }

  @Test
  void hashesSeveralBuffersLikeTheirConcatenation() {
    byte[] bytes = referenceBytes(3_000_000);
    try (HostBuffer whole = TestBytes.hostCopy(bytes)) {
      int[][] splits = {{1, 2, 2_999_997}, {64, 64, 1024, 2_998_848}, {1_500_000, 0, 1_500_000}};
      for (int[] split : splits) {
        long[] addresses = new long[split.length];
        long[] lengths = new long[split.length];
        long offset = 0;
        for (int i = 0; i < split.length; i++) {
          addresses[i] = whole.address() + offset;
          lengths[i] = split[i];
          offset += split[i];
        }
        long[] out = new long[2];
        Xxh3.hash128(addresses, lengths, split.length, out);
        assertArrayEquals(new long[] {REFERENCE[6][1], REFERENCE[6][2]}, out);
      }
    }
  }

  @Test
  void keyedHashIsTheSameOnBothPathsAndDiffersFromThePlainOne() {
    byte[] secret = TestBytes.pattern(192, 11);
    try (HostBuffer buffer = TestBytes.hostCopy(referenceBytes(3_000_000))) {
      for (long[] row : REFERENCE) {
        long[] keyed = new long[2];
        Xxh3.hash128(new long[] {buffer.address()}, new long[] {row[0]}, 1, secret, keyed);
        long[] baseline = new long[2];
        Xxh3.hash128Baseline(new long[] {buffer.address()}, new long[] {row[0]}, 1, secret, baseline);
        assertArrayEquals(keyed, baseline, "length " + row[0]);
        assertFalse(keyed[0] == row[1] && keyed[1] == row[2], "length " + row[0]);
      }
    }
  }

  @Test
  void hashesSeveralBuffersLikeTheirConcatenationWhenKeyed() {
    byte[] secret = TestBytes.pattern(192, 12);
    try (HostBuffer whole = TestBytes.hostCopy(referenceBytes(100_000))) {
      long[] expected = new long[2];
      Xxh3.hash128(new long[] {whole.address()}, new long[] {100_000}, 1, secret, expected);
      long[] out = new long[2];
      Xxh3.hash128(new long[] {whole.address(), whole.address() + 1000},
          new long[] {1000, 99_000}, 2, secret, out);
      assertArrayEquals(expected, out);
    }
  }

  @Test
  void refusesASecretShorterThanTheMinimum() {
    assertThrows(IllegalArgumentException.class, () -> Xxh3.hash128(new long[] {0},
        new long[] {0}, 1, new byte[Xxh3.SECRET_SIZE_MIN - 1], new long[2]));
  }
}
