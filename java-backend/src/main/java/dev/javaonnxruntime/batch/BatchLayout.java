package dev.javaonnxruntime.batch;

import java.util.Arrays;

/**
 * Where each request's rows sit in a batch concatenated along dimension 0: request {@code i}
 * covers rows {@code [rowOffset(i), rowOffset(i) + rows(i))}. For a model without a batch
 * dimension every "batch" holds exactly one request of one row. Immutable.
 */
public final class BatchLayout {
  private final long[] rows;
  private final long[] offsets;
  private final long total;

  public BatchLayout(long[] rows) {
    this.rows = rows.clone();
    this.offsets = new long[rows.length];
    long sum = 0;
    for (int i = 0; i < rows.length; i++) {
      if (rows[i] < 0) {
        throw new IllegalArgumentException("negative batch size " + rows[i] + " for request " + i);
      }
      offsets[i] = sum;
      sum += rows[i];
    }
    this.total = sum;
  }

  public int requests() {
    return rows.length;
  }

  public long rows(int request) {
    return rows[request];
  }

  public long rowOffset(int request) {
    return offsets[request];
  }

  /** The sum of all requests' rows: the batch dimension of the concatenated tensor. */
  public long totalRows() {
    return total;
  }

  /**
   * The byte range of request {@code i} in a concatenated tensor of {@code totalBytes}, whose rows
   * are all the same size. Returns {offset, length}.
   */
  public long[] slice(int request, long totalBytes) {
    if (total == 0) {
      return new long[] {0, 0};
    }
    if (totalBytes % total != 0) {
      throw new IllegalArgumentException(
          "a tensor of " + totalBytes + " bytes cannot hold " + total + " equal rows");
    }
    long rowBytes = totalBytes / total;
    return new long[] {offsets[request] * rowBytes, rows[request] * rowBytes};
  }

  /** The shape of request {@code i}'s slice of a batched tensor of shape {@code full}. */
  public long[] sliceShape(int request, long[] full) {
    long[] shape = full.clone();
    if (shape.length > 0) {
      shape[0] = rows[request];
    }
    return shape;
  }

  @Override
  public String toString() {
    return "BatchLayout" + Arrays.toString(rows);
  }
}
