package dev.javaonnxruntime.run;

import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.lifecycle.Closer;
import dev.javaonnxruntime.onnx.FixedRun;
import dev.javaonnxruntime.onnx.InputTensor;
import dev.javaonnxruntime.onnx.ModelSession;
import java.util.List;

/**
 * One shape of a {@link GraphPath}: its own session, the binding that captures and replays it
 * over fixed device buffers, those buffers, and how many of its batches were checked against the
 * eager run.
 *
 * <p>Ownership: owns the session, the binding and the buffers' blocks, released by {@link
 * #close} once the instance has synchronised its stream. Used only on the instance's thread.
 */
final class GraphSlot {
  final ModelSession own;
  final FixedRun run;
  /** The fixed input buffers as tensors, config order. */
  final List<InputTensor> inputs;
  final FixedInputs fixed;
  /** The device memory its session and buffers took, and how long it took to open. */
  final String opened;
  private final List<Long> blocks;
  /** Batches checked against the eager run so far ({@link GraphPath#confirm}). */
  int confirmed;

  GraphSlot(ModelSession own, FixedRun run, List<InputTensor> inputs, List<Long> blocks,
      String opened) {
    this.own = own;
    this.run = run;
    this.inputs = List.copyOf(inputs);
    this.fixed = new FixedInputs(inputs.stream().map(InputTensor::address).toList());
    this.blocks = List.copyOf(blocks);
    this.opened = opened;
  }

  /** Releases the binding and the session and frees the buffers, each a step of {@code closer}. */
  void close(Closer closer, DeviceMemory memory) {
    closer.close("binding", run);
    closer.close("session", own);
    blocks.forEach(block -> closer.run("buffer", () -> memory.free(block)));
  }
}
