package dev.javaonnxruntime.onnx;

import dev.javaonnxruntime.config.DataType;

/**
 * A view of one output of a run, in memory ORT allocated (on the device for a CUDA session).
 * Valid only inside {@link ModelSession.OutputConsumer#accept}.
 */
public record OutputTensor(String name, DataType dataType, long address, long byteSize, long[] shape,
    boolean onDevice) {}
