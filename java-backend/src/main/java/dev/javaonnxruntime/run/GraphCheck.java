package dev.javaonnxruntime.run;

import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.cuda.HostBuffer;
import dev.javaonnxruntime.cuda.HostBytes;
import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.onnx.FixedRun;
import dev.javaonnxruntime.onnx.InputTensor;
import dev.javaonnxruntime.onnx.ModelSession;
import dev.javaonnxruntime.onnx.OutputTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The checks that decide whether a captured graph may answer requests: its outputs compared bit
 * for bit with an eager run of the instance's session on the same input buffers, once on the
 * batch it replays ({@link #againstEager}) and once on zeroed inputs ({@link #onZeros}). Why
 * both: on the H200 a captured graph went on answering the input it was captured with, and a
 * graph captured in a session that had run other shapes answered wrong values; a request's batch
 * catches a graph that answers wrongly for real inputs, zeros one that ignores its inputs.
 *
 * <p>Holds no state of its own; used only on the instance's execute thread, where the session and
 * the stream are.
 */
final class GraphCheck {
  private final ModelSession session;
  private final DeviceMemory memory;

  GraphCheck(ModelSession session, DeviceMemory memory) {
    this.session = session;
    this.memory = memory;
  }

  /**
   * Compares what the graph of {@code run} has just written (its outputs at their fixed
   * addresses) with an eager run over its input buffers as they are. Returns null where every
   * output is equal, else the name of the first output that differs.
   */
  String againstEager(FixedRun run, List<InputTensor> inputs, Stream stream) throws Exception {
    List<byte[]> replayed = read(run.outputs(), stream);
    List<String> names = run.outputs().stream().map(OutputTensor::name).toList();
    List<byte[]> eager = new ArrayList<>();
    session.run(inputs, names, results -> eager.addAll(read(results, stream)));
    for (int i = 0; i < names.size(); i++) {
      if (!Arrays.equals(replayed.get(i), eager.get(i))) {
        return names.get(i);
      }
    }
    return null;
  }

  /**
   * Zeroes the input buffers, replays the graph of {@code run} and compares it as {@link
   * #againstEager} does. The buffers hold scratch afterwards: the next batch fills them.
   */
  String onZeros(FixedRun run, List<InputTensor> inputs, Stream stream) throws Exception {
    long largest = 1;
    for (InputTensor t : inputs) {
      largest = Math.max(largest, t.byteSize());
    }
    try (HostBuffer zeros = new HostBuffer(largest)) {
      HostBytes.zero(zeros.address(), largest);
      for (InputTensor t : inputs) {
        memory.copyHostToDevice(t.address(), zeros.address(), t.byteSize(), stream);
      }
      run.run();
      return againstEager(run, inputs, stream);
    }
  }

  /** The bytes of each tensor, copied to the host (a device tensor through {@code stream}). */
  private List<byte[]> read(List<OutputTensor> tensors, Stream stream) {
    List<byte[]> all = new ArrayList<>();
    for (OutputTensor t : tensors) {
      byte[] bytes = new byte[Math.toIntExact(t.byteSize())];
      if (t.onDevice()) {
        try (HostBuffer host = new HostBuffer(Math.max(t.byteSize(), 1))) {
          memory.copyDeviceToHost(host.address(), t.address(), t.byteSize(), stream);
          stream.synchronize();
          HostBytes.get(host.address(), bytes);
        }
      } else {
        HostBytes.get(t.address(), bytes);
      }
      all.add(bytes);
    }
    return all;
  }
}
