package dev.javaonnxruntime.onnx;

import dev.javaonnxruntime.config.DataType;
import java.util.Arrays;

/** A model input or output as the loaded session declares it; -1 marks a symbolic dimension. */
public record TensorInfo(String name, DataType dataType, long[] shape) {
  @Override
  public String toString() {
    return name + " " + dataType.configName() + " " + Arrays.toString(shape).replace(" ", "");
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorInfo t && name.equals(t.name) && dataType == t.dataType
        && Arrays.equals(shape, t.shape);
  }

  @Override
  public int hashCode() {
    return name.hashCode();
  }
}
