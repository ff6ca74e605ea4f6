package dev.javaonnxruntime.onnx;

import static org.bytedeco.onnxruntime.global.onnxruntime.*;

import dev.javaonnxruntime.lifecycle.Closer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.onnxruntime.IoBinding;
import org.bytedeco.onnxruntime.OrtApi;
import org.bytedeco.onnxruntime.OrtIoBinding;
import org.bytedeco.onnxruntime.OrtMemoryInfo;
import org.bytedeco.onnxruntime.OrtRunOptions;
import org.bytedeco.onnxruntime.OrtSession;
import org.bytedeco.onnxruntime.OrtStatus;
import org.bytedeco.onnxruntime.ValueVector;

/**
 * The eager runs of one session, through ONNX Runtime's C API with everything a run needs made
 * once: the name and value arrays, the out-parameters, and reusable views for the handles ORT
 * returns. A run allocates no native memory of ours and no JavaCPP object per tensor; an input
 * that did not change since the last run keeps its value and binding ({@link BoundInputs}).
 *
 * <p>A CPU session runs with {@code OrtApi::Run}: input values over the caller's buffers, outputs
 * allocated by ORT. (Triton's stock backend binds on the CPU too; binding each output and reading
 * it back through the binding cost 7-10 us more per request in the real server, inference the
 * same within the noise: bench/results/2026-12-07-cpu-kept.) A CUDA session binds its inputs and
 * outputs ({@code RunWithBinding}): outputs to the device where they must stay there (the output
 * cache, a graph's learning run), else to host memory, as the stock backend binds them for its
 * HTTP and gRPC clients, so that ORT copies them back inside the run, behind its last kernel, and
 * the instance makes no copy and no synchronisation of its own. Its outputs are read through the
 * C++ API's vector, released when the consumer returns. Used only on the instance's thread.
 */
final class EagerRun implements AutoCloseable {
  private static final OrtApi API = GetApi();
  private final OrtSession session;
  private final OrtRunOptions options;
  /** The session's binding for a CUDA session, null for a CPU one. */
  private final OrtIoBinding binding;
  private final IoBinding cppBinding;
  private final OrtMemoryInfo cpu;
  private final OrtMemoryInfo device;
  private final Function<String, BytePointer> names;
  /** The inputs' values and binding, kept from run to run where they do not change. */
  private final BoundInputs inputs;
  /** A view of the shape ORT holds for an output value. */
  private final Views.Longs dims = new Views.Longs();
  /** {@code const char*[]} and {@code OrtValue*[]} of a run's outputs, as addresses. */
  private final LongPointer outNames;
  private final LongPointer outValues;
  private final PointerPointer<?> outNamesArg;
  private final PointerPointer<?> outValuesArg;
  /** One out-parameter ({@code void**}) and the same memory read as an address. */
  private final PointerPointer<?> out = new PointerPointer<>(1);
  private final LongPointer outAddress = new LongPointer(out);
  private final SizeTPointer size = new SizeTPointer(1);
  private final IntPointer type = new IntPointer(1);
  /** ORT's function that clears a binding's outputs (JavaCPP allocates each such object). */
  private final OrtApi.ClearBoundOutputs_OrtIoBinding clearOutputs = API.ClearBoundOutputs();
  private final Views.Value value = new Views.Value();
  private int produced;
  /** Whether the latest run's outputs were bound to host memory. */
  private boolean onHost;
  private long startNanos;
  private long endNanos;

  EagerRun(OrtSession session, OrtRunOptions options, IoBinding binding, boolean keepBindings,
      OrtMemoryInfo cpu, OrtMemoryInfo device, Function<String, BytePointer> names, int inputs,
      int outputs) {
    this.session = session;
    this.options = options;
    this.cppBinding = binding;
    this.binding = binding == null ? null : binding.asOrtIoBinding();
    this.cpu = cpu;
    this.device = device;
    this.names = names;
    this.inputs = new BoundInputs(this.binding, keepBindings, cpu, device, names, inputs);
    outNames = new LongPointer(Math.max(outputs, 1));
    outValues = new LongPointer(Math.max(outputs, 1));
    outNamesArg = new PointerPointer<>(outNames);
    outValuesArg = new PointerPointer<>(outValues);
  }

  long startNanos() {
    return startNanos;
  }

  long endNanos() {
    return endNanos;
  }

  /**
   * Binds {@code in}, runs, and hands the outputs named {@code outputNames} (in that order) to
   * the consumer, a CUDA session's in host memory where {@code toHost}, else on the device;
   * every output value of the run is released when this returns, on every path.
   */
  void run(List<InputTensor> in, List<String> outputNames, boolean toHost,
      ModelSession.OutputConsumer consumer) throws Exception {
    if (outputNames.size() > outValues.capacity()) {
      throw new IllegalArgumentException("a run of " + outputNames.size()
          + " outputs, more than the model has");
    }
    try {
      inputs.bind(in);
      int n = outputNames.size();
      onHost = binding == null || toHost;
      for (int i = 0; i < n; i++) {
        BytePointer name = names.apply(outputNames.get(i));
        outNames.put(i, name.address());
        outValues.put(i, 0); // ORT allocates each output
        if (binding != null) {
          check(API.BindOutputToDevice(binding, name, toHost ? cpu : device));
        }
      }
      startNanos = System.nanoTime();
      if (binding == null) {
        check(API.Run(session, options, inputs.namesArg(), inputs.valuesArg(), inputs.count(),
            outNamesArg, n, outValuesArg));
        produced = n;
        endNanos = System.nanoTime();
        consume(outputNames, consumer);
      } else {
        check(API.RunWithBinding(session, options, binding));
        endNanos = System.nanoTime();
        try (PointerScope scope = new PointerScope()) {
          boundOutputs(n);
          consume(outputNames, consumer);
        }
      }
    } finally {
      release();
    }
  }

  private void consume(List<String> outputNames, ModelSession.OutputConsumer consumer)
      throws Exception {
    List<OutputTensor> result = new ArrayList<>(outputNames.size());
    for (int i = 0; i < outputNames.size(); i++) {
      result.add(output(outputNames.get(i), value.at(outValues.get(i))));
    }
    consumer.accept(result);
  }

  /**
   * The binding's outputs, through the C++ API's vector (each value released with it, when the
   * scope the caller holds closes), their handles into {@link #outValues}.
   */
  private void boundOutputs(int n) {
    ValueVector values = cppBinding.GetOutputValues();
    if (values.size() != n) {
      throw new OrtFailure("ONNX Runtime returned " + values.size() + " outputs for " + n
          + " bound", null);
    }
    for (int i = 0; i < n; i++) {
      outValues.put(i, values.get(i).asOrtValue().address());
    }
  }

  /**
   * One output: its type and shape (a reference to the value's own shape, no info object), its
   * address and its size, in three calls to ORT.
   */
  private OutputTensor output(String name, Views.Value v) {
    check(API.GetTensorElementTypeAndShapeDataReference(v, type, out, size));
    int onnxType = type.get();
    long[] shape = new long[(int) size.get()];
    if (shape.length > 0) {
      dims.at(outAddress.get(0), shape.length).get(shape);
    }
    check(API.GetTensorMutableData(v, out));
    long address = outAddress.get(0);
    check(API.GetTensorSizeInBytes(v, size));
    return new OutputTensor(name, ElementTypes.fromOnnx(onnxType), address, size.get(), shape,
        !onHost);
  }

  /**
   * Releases the run's output values and clears the binding's outputs; the inputs stay for the
   * next run ({@link BoundInputs}).
   */
  private void release() {
    for (int i = 0; i < produced; i++) {
      long v = outValues.get(i);
      if (v != 0) {
        API.ReleaseValue(value.at(v));
      }
    }
    produced = 0;
    if (binding != null) {
      clearOutputs.call(binding);
    }
  }

  static void check(OrtStatus status) {
    if (status != null && !status.isNull()) {
      throw new OrtFailure("ONNX Runtime failed to run: " + OrtFailure.release(status), null);
    }
  }

  @Override
  public void close() {
    Closer closer = new Closer("run.close");
    closer.close("inputs", inputs);
    for (Pointer p : new Pointer[] {outNames, outValues, out, size, type, clearOutputs}) {
      closer.close("buffer", p);
    }
    closer.finish();
  }
}
