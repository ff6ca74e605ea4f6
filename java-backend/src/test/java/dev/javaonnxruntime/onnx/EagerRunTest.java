package dev.javaonnxruntime.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.javaonnxruntime.config.DataType;
import java.util.List;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

/**
 * Eager runs keep an input's value from one run to the next while its tensor stays the same
 * (a cache hit on the same entry): each run must still read the bytes at the address as they are
 * then, and an input that moves or changes shape must be read from its new place. Checked on a
 * CPU session; a CUDA session's kept binding is the same views under IoBinding.
 */
class EagerRunTest extends OrtTestSupport {
  private static final int IMAGE = 3 * 224 * 224;

  @Test
  void aKeptInputIsReadAtEveryRunAndAMovedOneFromItsNewPlace() throws Exception {
    try (ModelSession session = ModelSession.open(ort, MODEL, ExecutionTarget.cpu(), 1);
        FloatPointer image = new FloatPointer(2L * IMAGE);
        FloatPointer bias = new FloatPointer(8);
        FloatPointer other = new FloatPointer(8)) {
      for (int i = 0; i < 2 * IMAGE; i++) {
        image.put(i, (float) Math.sin(i * 0.01));
      }
      bias.put(new float[] {1, -2, 3, -4, 5, -6, 7, -8});
      float[] first = run(session, image, bias, 1);

      bias.put(new float[] {11, 18, 33, 36}); // the same tensor, new bytes in place
      assertArrayEquals(new float[] {first[0] + 10, first[1] + 20, first[2] + 30, first[3] + 40},
          run(session, image, bias, 1), 1e-4f, "the kept value read the bytes as they are now");

      other.put(new float[] {1, -2, 3, -4, 5, -6, 7, -8}); // bias moved to another buffer
      assertArrayEquals(first, run(session, image, other, 1), "the moved input was read there");

      float[] two = run(session, image, other, 2); // both inputs change shape
      assertEquals(8, two.length);
      float[] firstRow = {two[0], two[1], two[2], two[3]};
      assertArrayEquals(first, firstRow, "row 0 of a batch of 2 equals the run of 1");
      assertArrayEquals(first, run(session, image, other, 1), "back to a batch of 1");
    }
  }

  @Test
  void aHostTensorOnACudaSessionIsBoundAnewEveryRun() {
    InputTensor device = new InputTensor("image", DataType.FP32, 4096, 64, new long[] {1, 16}, true);
    InputTensor host = new InputTensor("image", DataType.FP32, 4096, 64, new long[] {1, 16}, false);
    assertTrue(BoundInputs.keeps(device, device, true), "a device tensor keeps its binding");
    // ORT copies a host tensor to the device when it is bound: new bytes at the same address
    // would be missed by a kept binding (input_staging "ort").
    assertFalse(BoundInputs.keeps(host, host, true), "a host tensor on a CUDA session");
    assertTrue(BoundInputs.keeps(host, host, false), "a CPU session reads it at each run");
    assertFalse(BoundInputs.keeps(device, new InputTensor("image", DataType.FP32, 4096, 64,
        new long[] {2, 8}, true), true), "another shape");
    assertFalse(BoundInputs.keeps(null, device, true), "nothing held");
  }

  /** Runs two_input on {@code rows} rows of {@code image} and {@code bias}: out [rows, 4]. */
  private static float[] run(ModelSession session, FloatPointer image, FloatPointer bias,
      int rows) throws Exception {
    List<InputTensor> in = List.of(
        new InputTensor("image", DataType.FP32, image.address(), rows * IMAGE * 4L,
            new long[] {rows, 3, 224, 224}, false),
        new InputTensor("bias", DataType.FP32, bias.address(), rows * 16L,
            new long[] {rows, 4}, false));
    float[] out = new float[4 * rows];
    session.run(in, List.of("out"), outs -> {
      OutputTensor o = outs.get(0);
      // The output's description, read from ORT at every run: name, type, shape and size.
      assertEquals("out", o.name());
      assertEquals(DataType.FP32, o.dataType());
      assertArrayEquals(new long[] {rows, 4}, o.shape());
      assertEquals(rows * 16L, o.byteSize());
      new FloatPointer(new Pointer() { { address = o.address(); } }).capacity(out.length).get(out);
    });
    return out;
  }
}
