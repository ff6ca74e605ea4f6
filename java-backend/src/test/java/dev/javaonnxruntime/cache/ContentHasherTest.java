package dev.javaonnxruntime.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.javaonnxruntime.cuda.HostBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class ContentHasherTest {
  private static final int LARGE = (int) (ContentHasher.PARALLEL_THRESHOLD * 3) + 12_345;

  private static HostBuffers split(HostBuffer buffer, long... lengths) {
    HostBuffers.Builder builder = HostBuffers.builder();
    long offset = 0;
    for (long length : lengths) {
      builder.add(buffer.address() + offset, length);
      offset += length;
    }
    return builder.build();
  }

  private static byte[] secret(int seed) {
    return TestBytes.pattern(ContentHasher.SECRET_BYTES, seed);
  }

  private static Hash128 plainXxh3(HostBuffer buffer, long length) {
    long[] out = new long[2];
    Xxh3.hash128(new long[] {buffer.address()}, new long[] {length}, 1, out);
    return new Hash128(out[0], out[1]);
  }

  @Test
  void hashesSmallInputAsXxh3KeyedWithItsSecret() {
    int small = (int) ContentHasher.PARALLEL_THRESHOLD - 1;
    byte[] bytes = TestBytes.pattern(small, 1);
    byte[] secret = secret(9);
    try (HostBuffer buffer = TestBytes.hostCopy(bytes);
        ContentHasher hasher = new ContentHasher(4, secret)) {
      long[] out = new long[2];
      Xxh3.hash128(new long[] {buffer.address()}, new long[] {bytes.length}, 1, secret, out);
      Hash128 keyed = hasher.hash(split(buffer, 100, small - 100));
      assertEquals(new Hash128(out[0], out[1]), keyed);
      assertNotEquals(plainXxh3(buffer, bytes.length), keyed);
    }
  }

  @Test
  void differsFromPlainXxh3OfTheSameBytesAtEverySize() {
    byte[] bytes = TestBytes.pattern(LARGE, 5);
    try (HostBuffer buffer = TestBytes.hostCopy(bytes);
        ContentHasher hasher = new ContentHasher(2)) {
      for (int length : new int[] {1, 16, 240, 241, 4096, 602_112, LARGE}) {
        assertNotEquals(plainXxh3(buffer, length), hasher.hash(split(buffer, length)),
            length + " bytes");
      }
    }
  }

  @Test
  void agreesWithinOneSecretAndDiffersBetweenSecrets() {
    byte[] bytes = TestBytes.pattern(LARGE, 6);
    try (HostBuffer buffer = TestBytes.hostCopy(bytes);
        ContentHasher one = new ContentHasher(2, secret(1));
        ContentHasher sameSecret = new ContentHasher(3, secret(1));
        ContentHasher other = new ContentHasher(2, secret(2))) {
      for (int length : new int[] {7, 602_112, LARGE}) {
        Hash128 hash = one.hash(split(buffer, length));
        assertEquals(hash, one.hash(split(buffer, length)), length + " bytes");
        assertEquals(hash, sameSecret.hash(split(buffer, length)), length + " bytes");
        assertNotEquals(hash, other.hash(split(buffer, length)), length + " bytes");
      }
    }
  }

  @Test
  void drawsANewSecretAtEveryStart() {
    byte[] bytes = TestBytes.pattern(602_112, 7);
    try (HostBuffer buffer = TestBytes.hostCopy(bytes);
        ContentHasher firstStart = new ContentHasher(1);
        ContentHasher secondStart = new ContentHasher(1)) {
      Hash128 first = firstStart.hash(split(buffer, bytes.length));
      assertEquals(first, firstStart.hash(split(buffer, bytes.length)));
      assertNotEquals(first, secondStart.hash(split(buffer, bytes.length)));
      assertNotEquals(plainXxh3(buffer, bytes.length), first);
    }
  }

  @Test
  void refusesASecretShorterThanXxh3Accepts() {
    assertThrows(IllegalArgumentException.class, () -> new ContentHasher(1, new byte[135]));
  }

  @Test
  void hashesLargeInputTheSameWhateverTheThreadsAndBufferSplit() {
    byte[] bytes = TestBytes.pattern(LARGE, 2);
    try (HostBuffer buffer = TestBytes.hostCopy(bytes)) {
      List<long[]> splits =
          List.of(
              new long[] {LARGE},
              new long[] {1, ContentHasher.CHUNK_BYTES - 1, 1, 0,
                  LARGE - ContentHasher.CHUNK_BYTES - 1},
              new long[] {LARGE / 3, LARGE / 3, LARGE - 2 * (LARGE / 3)},
              new long[] {LARGE / 2, LARGE - LARGE / 2});
      Hash128 expected;
      try (ContentHasher single = new ContentHasher(1, secret(3))) {
        expected = single.hash(split(buffer, LARGE));
      }
      for (int threads : new int[] {1, 2, 3, 8}) {
        try (ContentHasher hasher = new ContentHasher(threads, secret(3))) {
          for (long[] lengths : splits) {
            assertEquals(expected, hasher.hash(split(buffer, lengths)), threads + " threads");
          }
        }
      }
    }
  }

  @Test
  void changesLargeHashWhenOneByteOrTheLengthChanges() {
    byte[] bytes = TestBytes.pattern(LARGE, 3);
    try (HostBuffer buffer = TestBytes.hostCopy(bytes);
        ContentHasher hasher = new ContentHasher(2)) {
      Hash128 original = hasher.hash(split(buffer, LARGE));
      assertNotEquals(original, hasher.hash(split(buffer, LARGE - 1)));
      buffer.put(LARGE - 7, new byte[] {(byte) (bytes[LARGE - 7] + 1)});
      assertNotEquals(original, hasher.hash(split(buffer, LARGE)));
    }
  }

  @Test
  void hashesLargeInputsFromManyThreadsAtOnce() throws Exception {
    byte[] bytes = TestBytes.pattern(LARGE, 4);
    try (HostBuffer buffer = TestBytes.hostCopy(bytes);
        ContentHasher hasher = new ContentHasher(3)) {
      HostBuffers input = split(buffer, LARGE);
      Hash128 expected = hasher.hash(input);
      Thread[] threads = new Thread[4];
      Hash128[] results = new Hash128[threads.length];
      for (int t = 0; t < threads.length; t++) {
        int index = t;
        threads[t] = new Thread(() -> results[index] = hasher.hash(input));
        threads[t].start();
      }
      for (Thread thread : threads) {
        thread.join(30_000);
      }
      for (Hash128 result : results) {
        assertEquals(expected, result);
      }
    }
  }

  @Test
  void spinningHelpersHashAsOneThreadDoesAndStopAtClose() throws Exception {
    byte[] bytes = TestBytes.pattern(LARGE, 5);
    try (HostBuffer buffer = TestBytes.hostCopy(bytes)) {
      Hash128 expected;
      try (ContentHasher single = new ContentHasher(1, secret(3))) {
        expected = single.hash(split(buffer, LARGE));
      }
      ContentHasher hasher = new ContentHasher(4, 2_000_000, secret(3));
      Thread[] threads = new Thread[3];
      Hash128[][] results = new Hash128[threads.length][50];
      for (int t = 0; t < threads.length; t++) {
        int index = t;
        threads[t] = new Thread(() -> {
          for (int i = 0; i < results[index].length; i++) {
            hasher.wake(LARGE);
            results[index][i] = hasher.hash(split(buffer, LARGE));
          }
        });
        threads[t].start();
      }
      for (Thread thread : threads) {
        thread.join(30_000);
      }
      List<Thread> helpers = hasher.helperThreads();
      assertEquals(3, helpers.size());
      hasher.close();
      for (Thread helper : helpers) {
        helper.join(10_000);
        assertFalse(helper.isAlive(), helper.getName() + " still runs after close");
      }
      for (Hash128[] row : results) {
        for (Hash128 result : row) {
          assertEquals(expected, result);
        }
      }
    }
  }

  @Test
  void refusesToHashAfterClose() {
    try (HostBuffer buffer = TestBytes.hostCopy(new byte[16])) {
      ContentHasher hasher = new ContentHasher(2);
      hasher.close();
      hasher.close();
      assertThrows(IllegalStateException.class, () -> hasher.hash(split(buffer, 16)));
    }
  }
}
