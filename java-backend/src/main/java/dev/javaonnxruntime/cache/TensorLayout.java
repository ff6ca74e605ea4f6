package dev.javaonnxruntime.cache;

import java.util.Arrays;
import java.util.Objects;

/**
 * The data type and shape of a cached tensor.
 *
 * <p>Why it exists: equal bytes of another shape or data type are another tensor, so a content
 * key includes the layout; a named entry records it so the caller can check what it got. The data
 * type is the Triton name ("FP32", "INT64", ...) so that this package needs no other of ours.
 * Immutable (the shape is copied in and out); equality compares the shape's elements.
 *
 * @param dataType the Triton data type name
 * @param shape the dimensions, batch dimension included when the model batches
 */
public record TensorLayout(String dataType, long[] shape) {
  /** Copies the shape and rejects a missing data type. */
  public TensorLayout {
    Objects.requireNonNull(dataType, "dataType");
    shape = shape.clone();
  }

  /** A copy of the dimensions. */
  @Override
  public long[] shape() {
    return shape.clone();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof TensorLayout that
        && dataType.equals(that.dataType)
        && Arrays.equals(shape, that.shape);
  }

  @Override
  public int hashCode() {
    return 31 * dataType.hashCode() + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return dataType + Arrays.toString(shape);
  }
}
