package dev.javaonnxruntime.batch;

import dev.javaonnxruntime.config.DataType;
import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.cuda.HostBuffer;
import dev.javaonnxruntime.onnx.InputTensor;
import dev.javaonnxruntime.resolve.InputStager;
import dev.javaonnxruntime.resolve.ResolvedRequest;
import dev.javaonnxruntime.triton.Handles;
import java.util.List;
import org.bytedeco.javacpp.Pointer;

/** What the gather tests share: the one input, byte patterns, reading bytes back, an instance. */
final class GatherFixture {
  static final TensorConfig IMAGE = new TensorConfig("image", DataType.FP32, new long[] {4}, false);

  private GatherFixture() {}

  /** One instance's resolve and gather steps, closed as the instance closes them. */
  record Instance(InputStager stager, Gatherer gatherer) implements AutoCloseable {
    /** The tensor the gatherer binds for input 'image' of {@code group}. */
    InputTensor prepare(List<ResolvedRequest> group, long[] shape) throws Exception {
      long[] rows = group.stream().mapToLong(ResolvedRequest::rows).toArray();
      Batch batch = new Batch(group, new BatchLayout(rows), List.of(shape), List.of("out"));
      return gatherer.prepare(batch, 0, IMAGE);
    }

    @Override
    public void close() {
      gatherer.close();
      stager.close();
    }
  }

  static byte[] pattern(int length, int seed) {
    byte[] bytes = new byte[length];
    for (int i = 0; i < length; i++) {
      bytes[i] = (byte) (seed * 31 + i * 7);
    }
    return bytes;
  }

  static byte[] read(long address, int length) {
    try (HostBuffer b = new HostBuffer(length)) {
      Pointer.memcpy(Handles.at(b.address()), Handles.at(address), length);
      byte[] bytes = new byte[length];
      b.get(0, bytes);
      return bytes;
    }
  }
}
