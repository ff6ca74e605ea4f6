package dev.javaonnxruntime.cache;

import java.util.Arrays;

/**
 * One logical byte sequence given as several host buffers (address, length), in order: how
 * Triton hands over an input that arrived in pieces.
 *
 * <p>Why it exists: the content hash must be that of the concatenated bytes, whatever the split,
 * so the hasher takes the pieces as they are instead of gathering them first. A view: it never
 * owns or frees the memory, which the caller (Triton's request) keeps alive while hashing.
 * Immutable once built; the {@link Builder} is not thread-safe.
 */
public final class HostBuffers {
  private final long[] addresses;
  private final long[] lengths;
  private final long totalLength;

  private HostBuffers(long[] addresses, long[] lengths) {
    if (addresses.length != lengths.length) {
      throw new IllegalArgumentException(
          addresses.length + " addresses but " + lengths.length + " lengths");
    }
    long total = 0;
    for (int i = 0; i < lengths.length; i++) {
      if (lengths[i] < 0 || (lengths[i] > 0 && addresses[i] == 0)) {
        throw new IllegalArgumentException(
            "buffer " + i + " has address 0x" + Long.toHexString(addresses[i]) + " and length "
                + lengths[i]);
      }
      total = Math.addExact(total, lengths[i]);
    }
    this.addresses = addresses;
    this.lengths = lengths;
    this.totalLength = total;
  }

  /** The buffers {@code (addresses[i], lengths[i])} (the arrays are copied). */
  public static HostBuffers of(long[] addresses, long[] lengths) {
    return new HostBuffers(addresses.clone(), lengths.clone());
  }

  /** One buffer. */
  public static HostBuffers single(long address, long length) {
    return new HostBuffers(new long[] {address}, new long[] {length});
  }

  /** Starts an empty list of buffers. */
  public static Builder builder() {
    return new Builder();
  }

  /** Number of buffers. */
  public int count() {
    return addresses.length;
  }

  /** Address of buffer {@code i}. */
  public long address(int i) {
    return addresses[i];
  }

  /** Length of buffer {@code i}. */
  public long length(int i) {
    return lengths[i];
  }

  /** Sum of the lengths. */
  public long totalLength() {
    return totalLength;
  }

  /** The addresses, not copied: callers in this package must not modify them. */
  long[] addressArray() {
    return addresses;
  }

  /** The lengths, not copied: callers in this package must not modify them. */
  long[] lengthArray() {
    return lengths;
  }

  /** Collects buffers one by one (as {@code TRITONBACKEND_InputBuffer} yields them). */
  public static final class Builder {
    private long[] addresses = new long[4];
    private long[] lengths = new long[4];
    private int count;

    private Builder() {}

    /** Appends one buffer. */
    public Builder add(long address, long length) {
      if (count == addresses.length) {
        addresses = Arrays.copyOf(addresses, count * 2);
        lengths = Arrays.copyOf(lengths, count * 2);
      }
      addresses[count] = address;
      lengths[count] = length;
      count++;
      return this;
    }

    /** The buffers added so far. */
    public HostBuffers build() {
      return new HostBuffers(Arrays.copyOf(addresses, count), Arrays.copyOf(lengths, count));
    }
  }
}
