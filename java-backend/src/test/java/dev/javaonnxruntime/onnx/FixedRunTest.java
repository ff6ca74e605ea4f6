package dev.javaonnxruntime.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.javaonnxruntime.config.DataType;
import java.util.List;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;

/**
 * A fixed binding must read the caller's input buffers and write the caller's output buffers at
 * the addresses it was given: the CUDA graph path captures kernels that read and write exactly
 * there. Checked on a CPU session (same binding code) against an eager run of the same model.
 */
class FixedRunTest extends OrtTestSupport {
  @Test
  void readsAndWritesTheCallersBuffers() throws Exception {
    int imageFloats = 3 * 224 * 224;
    try (ModelSession session = ModelSession.open(ort, MODEL, ExecutionTarget.cpu(), 1);
        FloatPointer image = new FloatPointer(imageFloats);
        FloatPointer bias = new FloatPointer(4);
        FloatPointer out = new FloatPointer(4)) {
      for (int i = 0; i < imageFloats; i++) {
        image.put(i, (float) Math.sin(i * 0.01));
      }
      bias.put(new float[] {1, -2, 3, -4});
      out.put(new float[] {Float.NaN, Float.NaN, Float.NaN, Float.NaN});
      List<InputTensor> in = List.of(
          new InputTensor("image", DataType.FP32, image.address(), imageFloats * 4L,
              new long[] {1, 3, 224, 224}, false),
          new InputTensor("bias", DataType.FP32, bias.address(), 16, new long[] {1, 4}, false));
      float[] eager = new float[4];
      session.run(in, List.of("out"), outs -> new FloatPointer(
          new org.bytedeco.javacpp.Pointer() { { address = outs.get(0).address(); } })
          .capacity(4).get(eager));
      assertNotEquals(0f, eager[0]);

      try (FixedRun fixed = session.fixedRun(in, List.of(new OutputTensor("out", DataType.FP32,
          out.address(), 16, new long[] {1, 4}, false)), 0)) {
        fixed.run();
        float[] got = new float[4];
        out.get(got);
        assertArrayEquals(eager, got, "the fixed run wrote the caller's output buffer");

        bias.put(new float[] {10, 20, 30, 40}); // refilled in place, as the graph path does
        fixed.run();
        out.get(got);
        assertArrayEquals(new float[] {eager[0] + 9, eager[1] + 22, eager[2] + 27, eager[3] + 44},
            got, 1e-4f, "the second run read the refilled input buffer");
      }
    }
  }
}
