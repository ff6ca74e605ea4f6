package dev.javaonnxruntime.config;

import java.util.Arrays;

/**
 * One {@code input} or {@code output} entry of the model configuration. {@code dims} leave out
 * the batch dimension that a model with {@code max_batch_size > 0} prepends; -1 is a variable
 * dimension.
 */
public record TensorConfig(String name, DataType dataType, long[] dims, boolean optional) {

  /** The dims as Triton prints them, with the batch dimension when the model batches. */
  public String describeShape(boolean batched) {
    long[] full = batched ? prepend(-1, dims) : dims;
    return Arrays.toString(full).replace(" ", "");
  }

  /** Whether a request shape (with its batch dim when batched) fits these dims. */
  public boolean accepts(long[] shape, boolean batched) {
    int offset = batched ? 1 : 0;
    if (shape.length != dims.length + offset) {
      return false;
    }
    for (int i = 0; i < dims.length; i++) {
      if (dims[i] != -1 && dims[i] != shape[i + offset]) {
        return false;
      }
    }
    return true;
  }

  static long[] prepend(long first, long[] rest) {
    long[] out = new long[rest.length + 1];
    out[0] = first;
    System.arraycopy(rest, 0, out, 1, rest.length);
    return out;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorConfig t && name.equals(t.name) && dataType == t.dataType
        && Arrays.equals(dims, t.dims) && optional == t.optional;
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(dims);
  }

  @Override
  public String toString() {
    return name + " " + dataType.configName() + " " + Arrays.toString(dims);
  }
}
