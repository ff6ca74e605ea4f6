package dev.javaonnxruntime.onnx;

import dev.javaonnxruntime.config.DataType;

/**
 * A view of input bytes to bind for one run: memory the caller owns (a Triton buffer, a cache
 * entry, a staging buffer) that stays valid until the run's outputs are consumed. Never freed here.
 */
public record InputTensor(String name, DataType dataType, long address, long byteSize, long[] shape,
    boolean onDevice) {}
