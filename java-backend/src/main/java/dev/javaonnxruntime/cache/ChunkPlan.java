package dev.javaonnxruntime.cache;

import java.util.Arrays;

/**
 * Maps fixed-size chunks of one logical byte range onto the host buffers that hold it, and hashes
 * one chunk. A chunk may span several buffers and a buffer several chunks.
 *
 * <p>Immutable after construction; {@link #hashChunk} is called from several threads at once,
 * each writing only its own chunk's two slots of the digest array.
 */
final class ChunkPlan {
  private final long[] addresses;
  private final long[] lengths;
  /** starts[i] = offset of buffer i in the logical range. */
  private final long[] starts;
  private final long total;
  /** The hasher's secret; read, never written. */
  private final byte[] secret;

  ChunkPlan(HostBuffers input, byte[] secret) {
    this.secret = secret;
    this.addresses = input.addressArray();
    this.lengths = input.lengthArray();
    this.starts = new long[lengths.length];
    long offset = 0;
    for (int i = 0; i < lengths.length; i++) {
      starts[i] = offset;
      offset += lengths[i];
    }
    this.total = offset;
  }

  /** Writes the keyed XXH3-128 of chunk {@code chunk} to {@code digests[2 * chunk]} and the next. */
  void hashChunk(int chunk, long[] digests) {
    long from = chunk * ContentHasher.CHUNK_BYTES;
    long to = Math.min(total, from + ContentHasher.CHUNK_BYTES);
    int first = bufferAt(from);
    long[] pieceAddresses = new long[4];
    long[] pieceLengths = new long[4];
    int pieces = 0;
    long position = from;
    for (int b = first; position < to; b++) {
      long end = starts[b] + lengths[b];
      if (end <= position) {
        continue;
      }
      long pieceEnd = Math.min(to, end);
      if (pieces == pieceAddresses.length) {
        pieceAddresses = Arrays.copyOf(pieceAddresses, pieces * 2);
        pieceLengths = Arrays.copyOf(pieceLengths, pieces * 2);
      }
      pieceAddresses[pieces] = addresses[b] + (position - starts[b]);
      pieceLengths[pieces] = pieceEnd - position;
      pieces++;
      position = pieceEnd;
    }
    long[] out = new long[2];
    Xxh3.hash128(pieceAddresses, pieceLengths, pieces, secret, out);
    digests[2 * chunk] = out[0];
    digests[2 * chunk + 1] = out[1];
  }

  /** The last buffer that starts at or before {@code offset}. */
  private int bufferAt(long offset) {
    int low = 0;
    int high = starts.length - 1;
    while (low < high) {
      int mid = (low + high + 1) >>> 1;
      if (starts[mid] <= offset) {
        low = mid;
      } else {
        high = mid - 1;
      }
    }
    return low;
  }
}
