package dev.javaonnxruntime.onnx;

import dev.javaonnxruntime.config.DataType;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.onnxruntime.IoBinding;
import org.bytedeco.onnxruntime.MemoryInfo;
import org.bytedeco.onnxruntime.RunOptions;
import org.bytedeco.onnxruntime.Session;
import org.bytedeco.onnxruntime.Value;

/**
 * One CUDA graph of a session: every input and every output bound once, at device addresses that
 * never change, under one graph id ({@code gpu_graph_id}). Its first {@link #run} lets ONNX
 * Runtime's CUDA provider warm up, capture the kernels into a graph and replay it; later runs
 * replay the graph with one launch. The caller fills the input buffers before each run and reads
 * the output buffers after it, on the session's stream.
 *
 * <p>Ownership: the buffers are the caller's (views here, never freed); the binding, run options
 * and tensor values are this object's, released by {@link #close} (before the session closes).
 * Not thread-safe: used by one instance thread.
 */
public final class FixedRun implements AutoCloseable {
  private final Session session;
  private final IoBinding binding;
  private final RunOptions options;
  private final List<Value> values = new ArrayList<>();
  private final List<OutputTensor> outputs;
  private final int graphId;

  FixedRun(Session session, MemoryInfo deviceInfo, Function<String, BytePointer> names,
      List<InputTensor> inputs, List<OutputTensor> outputs, int graphId) {
    if (graphId < 0) {
      throw new IllegalArgumentException("graph id must be >= 0, got " + graphId);
    }
    if (PointerScope.getInnerScope() != null) {
      // A scope would release the binding when it closes, long before the graph stops replaying.
      throw new IllegalStateException("a graph's binding must be made outside any PointerScope");
    }
    this.session = session;
    this.outputs = List.copyOf(outputs);
    this.graphId = graphId;
    binding = new IoBinding(session);
    options = new RunOptions();
    try {
      options.AddConfigEntry("gpu_graph_id", Integer.toString(graphId));
      options.AddConfigEntry("disable_synchronize_execution_providers", "1");
      for (InputTensor t : inputs) {
        binding.BindInput(names.apply(t.name()), value(deviceInfo, t.address(), t.byteSize(),
            t.shape(), t.dataType()));
      }
      for (OutputTensor t : outputs) {
        binding.BindOutput(names.apply(t.name()), value(deviceInfo, t.address(), t.byteSize(),
            t.shape(), t.dataType()));
      }
    } catch (RuntimeException e) {
      close();
      throw new OrtFailure("ONNX Runtime cannot bind the fixed buffers of graph " + graphId + ": "
          + e.getMessage(), e);
    }
  }

  private Value value(MemoryInfo info, long address, long bytes, long[] shape, DataType type) {
    Pointer data = view(address);
    try (LongPointer dims = new LongPointer(shape)) {
      Value v = Value.CreateTensor(info.asOrtMemoryInfo(), data, bytes, dims, shape.length,
          ElementTypes.toOnnx(type));
      values.add(v);
      return v;
    }
  }

  /**
   * A non-owning view of an address (a caller's buffer, a stream handle), for this package. A named
   * class, not an anonymous {@code Pointer} with an initialiser: inside one, {@code address} names
   * Pointer's own field, not the method's parameter.
   */
  static Pointer view(long address) {
    return new View(address);
  }

  private static final class View extends Pointer {
    View(long address) {
      this.address = address;
    }
  }

  /** The graph id ONNX Runtime captures and replays this binding under. */
  public int graphId() {
    return graphId;
  }

  /** The outputs, at their fixed addresses (valid until {@link #close}). */
  public List<OutputTensor> outputs() {
    return outputs;
  }

  /** Captures (first call) or replays the graph on the session's stream. */
  public void run() {
    try {
      session.Run(options, binding);
    } catch (RuntimeException e) {
      throw new OrtFailure("ONNX Runtime failed to run graph " + graphId + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    binding.ClearBoundInputs();
    binding.ClearBoundOutputs();
    binding.close();
    values.forEach(Value::close);
    values.clear();
    options.close();
  }
}
