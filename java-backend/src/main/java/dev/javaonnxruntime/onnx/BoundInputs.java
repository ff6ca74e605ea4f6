package dev.javaonnxruntime.onnx;

import static org.bytedeco.onnxruntime.global.onnxruntime.GetApi;

import dev.javaonnxruntime.lifecycle.Closer;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.onnxruntime.OrtApi;
import org.bytedeco.onnxruntime.OrtIoBinding;
import org.bytedeco.onnxruntime.OrtMemoryInfo;

/**
 * The input values of a session's eager runs ({@code OrtValue}s over the caller's bytes, and on a
 * CUDA session their binding), kept from one run to the next: an input whose tensor is the one
 * the run before had (name, type, address, size, shape and memory) keeps its value and binding,
 * so a run that reads the same cache entry again creates, binds and releases nothing. Any other
 * input gets a new value, bound under its name in place of the old one.
 *
 * <p>A value is a view: it reads the bytes at its address when ORT runs, so a kept one is exact
 * whatever was written there since. That holds for a binding only where ORT reads the input on
 * the device it lies on; where it would read it elsewhere, binding copies the bytes, so such a
 * session ({@code keep} false) gets every binding anew, and so does a host tensor bound to a
 * CUDA session ({@code input_staging: "ort"}). Owns the values and the arrays; used
 * only on the instance's thread.
 */
final class BoundInputs implements AutoCloseable {
  private static final OrtApi API = GetApi();
  /** The session's binding for a CUDA session, null for a CPU one. */
  private final OrtIoBinding binding;
  private final boolean keep;
  private final OrtMemoryInfo cpu;
  private final OrtMemoryInfo device;
  private final Function<String, BytePointer> names;
  private final LongPointer dims = new LongPointer(ModelSession.MAX_RANK);
  /** {@code const char*[]} and {@code OrtValue*[]} of a CPU run, as addresses. */
  private final LongPointer inNames;
  private final LongPointer inValues;
  private final PointerPointer<?> namesArg;
  private final PointerPointer<?> valuesArg;
  /** One out-parameter ({@code OrtValue**}) and the same memory read as an address. */
  private final PointerPointer<?> out = new PointerPointer<>(1);
  private final LongPointer outAddress = new LongPointer(out);
  private final OrtApi.ClearBoundInputs_OrtIoBinding clear = API.ClearBoundInputs();
  private final Views.Value value = new Views.Value();
  private final Views.Address view = new Views.Address();
  /** What the value at each position views, null where there is none. */
  private final InputTensor[] held;
  private int count;

  BoundInputs(OrtIoBinding binding, boolean keep, OrtMemoryInfo cpu, OrtMemoryInfo device,
      Function<String, BytePointer> names, int inputs) {
    this.binding = binding;
    this.keep = keep;
    this.cpu = cpu;
    this.device = device;
    this.names = names;
    held = new InputTensor[Math.max(inputs, 1)];
    inNames = new LongPointer(held.length);
    inValues = new LongPointer(held.length);
    namesArg = new PointerPointer<>(inNames);
    valuesArg = new PointerPointer<>(inValues);
  }

  /** Makes {@code in} the inputs of the next run; on failure nothing is held or bound. */
  void bind(List<InputTensor> in) {
    if (in.size() > held.length) {
      throw new IllegalArgumentException("a run of " + in.size() + " inputs, more than the model has");
    }
    if (in.size() != count || !keep) {
      reset();
    }
    try {
      for (int i = 0; i < in.size(); i++) {
        InputTensor t = in.get(i);
        if (!keeps(held[i], t, binding != null)) {
          rebind(i, t);
        }
      }
      count = in.size();
    } catch (RuntimeException e) {
      reset();
      throw e;
    }
  }

  int count() {
    return count;
  }

  PointerPointer<?> namesArg() {
    return namesArg;
  }

  PointerPointer<?> valuesArg() {
    return valuesArg;
  }

  private void rebind(int i, InputTensor t) {
    release(i);
    BytePointer name = names.apply(t.name());
    inNames.put(i, name.address());
    int rank = t.shape().length;
    if (rank > ModelSession.MAX_RANK) {
      throw new IllegalArgumentException("input '" + t.name() + "' has rank " + rank
          + ", more than " + ModelSession.MAX_RANK);
    }
    dims.put(t.shape(), 0, rank);
    EagerRun.check(API.CreateTensorWithDataAsOrtValue(t.onDevice() ? device : cpu,
        view.at(t.address()), t.byteSize(), dims, rank, ElementTypes.toOnnx(t.dataType()), out));
    inValues.put(i, outAddress.get(0));
    held[i] = new InputTensor(t.name(), t.dataType(), t.address(), t.byteSize(),
        t.shape().clone(), t.onDevice());
    if (binding != null) {
      EagerRun.check(API.BindInput(binding, name, value.at(inValues.get(i))));
    }
  }

  /**
   * Whether the value held for {@code a} serves {@code b}: the same tensor, and on a CUDA session
   * ({@code cuda}) in device memory. A host tensor bound to a CUDA session is copied to the
   * device by ORT at bind time, so it is bound anew at every run, however unchanged it looks.
   */
  static boolean keeps(InputTensor a, InputTensor b, boolean cuda) {
    return a != null && (b.onDevice() || !cuda) && a.address() == b.address()
        && a.byteSize() == b.byteSize() && a.onDevice() == b.onDevice()
        && a.dataType() == b.dataType() && a.name().equals(b.name())
        && Arrays.equals(a.shape(), b.shape());
  }

  private void release(int i) {
    if (held[i] != null) {
      held[i] = null;
      API.ReleaseValue(value.at(inValues.get(i)));
    }
  }

  /** Releases every value and clears the binding's inputs. */
  void reset() {
    for (int i = 0; i < held.length; i++) {
      release(i);
    }
    count = 0;
    if (binding != null) {
      clear.call(binding);
    }
  }

  @Override
  public void close() {
    // The values only: the binding is the session's, which closes it after this.
    Closer closer = new Closer("inputs.close");
    closer.run("release", () -> {
      for (int i = 0; i < held.length; i++) {
        release(i);
      }
    });
    for (Pointer p : new Pointer[] {dims, inNames, inValues, out, outAddress, clear}) {
      closer.close("buffer", p);
    }
    closer.finish();
  }
}
