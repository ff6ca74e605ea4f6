package dev.javaonnxruntime.triton.execute;

import static dev.javaonnxruntime.triton.api.global.TritonApiLib.*;

import dev.javaonnxruntime.config.DataType;
import dev.javaonnxruntime.config.ModelConfig;
import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.read.BufferLocation;
import dev.javaonnxruntime.read.Failures;
import dev.javaonnxruntime.read.InputView;
import dev.javaonnxruntime.read.KeyParameters;
import dev.javaonnxruntime.read.RequestChecker;
import dev.javaonnxruntime.read.RequestData;
import dev.javaonnxruntime.read.TritonException;
import dev.javaonnxruntime.triton.Errors;
import dev.javaonnxruntime.triton.Handles;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_Input;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_Request;
import dev.javaonnxruntime.triton.api.TRITONSERVER_Error;
import java.nio.ByteBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;

/**
 * The read step at the boundary: reads a request's inputs, parameters and requested outputs
 * through Triton's API into a {@link RequestData}, which knows no Triton handle (what a key
 * parameter must be is {@link KeyParameters}'s). Triton's calls are made in C, in one JNI
 * crossing per request ({@link RequestCalls}), into a buffer allocated once and reused, so
 * reading allocates no native memory per request. Owned by one instance, used only on its
 * execute thread; closed with it.
 */
final class RequestReader implements AutoCloseable {
  /** Values {@link RequestCalls} may write at first (4 + 5 + 4 per buffer for one input...). */
  private static final int START_VALUES = 512;
  /** The most it may need: 32 MiB (a request of two million buffers, say, fails alone). */
  private static final int MAX_VALUES = 1 << 22;
  /** What {@link RequestCalls} writes, and the same memory read from Java. */
  private LongPointer out = new LongPointer(START_VALUES);
  private LongBuffer values = out.asBuffer();
  /** The same memory as bytes: the parameters' texts that {@link RequestCalls} copies. */
  private ByteBuffer bytes = out.asByteBuffer();
  /** A C string of Triton's (an output's name that is not configured). A view. */
  private final Text text = new Text();
  /** Out-parameters of the calls made from Java (the inputs listed by index): made once. */
  private final IntPointer int1 = new IntPointer(1);
  private final IntPointer int2 = new IntPointer(1);
  private final IntPointer int3 = new IntPointer(1);
  private final LongPointer long1 = new LongPointer(1);
  private final TRITONBACKEND_Input input = new TRITONBACKEND_Input();
  private final LongPointer shapeView = new LongPointer();
  private final BytePointer nameView = new BytePointer();
  /** The model's inputs and outputs, in config order, and their names as C string arrays. */
  private final List<TensorConfig> inputs;
  private final BytePointer[] inputNames;
  private final PointerPointer<BytePointer> inputNamesArg;
  private final List<TensorConfig> outputs;
  private final BytePointer[] outputNames;
  private final PointerPointer<BytePointer> outputNamesArg;
  private final RequestParameters parameters;

  RequestReader(ModelConfig config) {
    inputs = config.inputs();
    outputs = config.outputs();
    inputNames = inputs.stream().map(c -> new BytePointer(c.name())).toArray(BytePointer[]::new);
    outputNames = outputs.stream().map(c -> new BytePointer(c.name())).toArray(BytePointer[]::new);
    inputNamesArg = new PointerPointer<>(inputNames);
    outputNamesArg = new PointerPointer<>(outputNames);
    parameters = new RequestParameters(inputs, outputs);
  }

  /**
   * Reads and checks every request of the Execute: those that may be served, in order; each other
   * one fails alone, with what is wrong with it.
   */
  List<RequestData> readAll(OwnedRequests owned, RequestChecker checker) {
    List<RequestData> read = new ArrayList<>(owned.requests.size());
    for (RequestData r : owned.requests) {
      try {
        read(owned.handle(r), r);
        checker.check(r);
        read.add(r);
      } catch (RuntimeException e) {
        r.fail(Failures.asTriton(e));
      }
    }
    return read;
  }

  /**
   * Reads everything of {@code request} the later steps use into {@code data}: Triton's calls in
   * C, in one crossing ({@link RequestCalls}), their results read here in the order written.
   */
  void read(TRITONBACKEND_Request request, RequestData data) {
    fill(request);
    LongBuffer v = values;
    int requested = (int) v.get(3);
    int at = 4;
    for (int k = 0; k < inputs.size(); k++) {
      if (v.get(at++) != 0) {
        at = readInput(v, at, data, inputs.get(k).name());
      }
    }
    if (v.get(1) < v.get(0)) { // inputs besides the configured ones
      readOtherInputs(request, data, (int) v.get(0));
    }
    for (int i = 0; i < v.get(2); i++) {
      at = parameters.read(v, bytes, at, data);
    }
    List<String> names = new ArrayList<>(requested);
    for (int i = 0; i < requested; i++, at += 2) {
      int k = (int) v.get(at);
      names.add(k >= 0 ? outputs.get(k).name() : text.at(v.get(at + 1)).getString());
    }
    data.requestedOutputs = names;
  }

  /** Makes the calls into {@link #values}, growing it as they need; throws what a call failed with. */
  private void fill(TRITONBACKEND_Request request) {
    while (true) {
      long n = RequestCalls.read(request, inputNamesArg, inputNames.length, outputNamesArg,
          outputNames.length, KeyParameters.MAX_KEY_BYTES, out, out.capacity());
      if (n >= 0) {
        return;
      }
      if (n == RequestCalls.FAILED) {
        Errors.check(new TRITONSERVER_Error(Handles.at(out.get(0))), RequestCalls.call(out.get(1)));
      }
      if (out.capacity() >= MAX_VALUES) {
        throw new TritonException(TritonException.INVALID_ARG, "the request has more inputs, buffers,"
            + " parameters and outputs than java_onnxruntime reads (" + MAX_VALUES + " values)");
      }
      LongPointer larger = new LongPointer(Math.min(MAX_VALUES, out.capacity() * 4));
      larger.retainReference(); // the instance's: detaching it from the Execute's scope releases once
      PointerScope scope = PointerScope.getInnerScope();
      if (scope != null) {
        scope.detach(larger);
      }
      out.close();
      out = larger;
      values = out.asBuffer();
      bytes = out.asByteBuffer();
    }
  }

  /** Reads one input's properties and buffers from {@code v} at {@code at}; returns what follows. */
  private static int readInput(LongBuffer v, int at, RequestData data, String name) {
    DataType type = DataType.fromApi((int) v.get(at));
    int dims = (int) v.get(at + 1);
    long byteSize = v.get(at + 2);
    int buffers = (int) v.get(at + 3);
    long[] shape = new long[dims];
    v.get(at + 4, shape);
    at += 4 + dims;
    long[] addresses = new long[buffers];
    long[] sizes = new long[buffers];
    BufferLocation[] locations = new BufferLocation[buffers];
    for (int b = 0; b < buffers; b++, at += 4) {
      addresses[b] = v.get(at);
      sizes[b] = v.get(at + 1);
      locations[b] = location(name, (int) v.get(at + 2), v.get(at + 3));
    }
    data.inputs.put(name, new InputView(name, type, shape, byteSize, addresses, sizes, locations));
    return at;
  }

  /** The inputs besides the configured ones, by index to name them (the checker refuses them). */
  private void readOtherInputs(TRITONBACKEND_Request request, RequestData data, int count) {
    for (int i = 0; i < count; i++) {
      Errors.check(TRITONBACKEND_RequestInputByIndex(request, i, input),
          "TRITONBACKEND_RequestInputByIndex");
      Errors.check(TRITONBACKEND_InputProperties(input, nameView, int1, shapeView, int2, long1, int3),
          "TRITONBACKEND_InputProperties");
      String name = nameView.getString();
      if (!data.inputs.containsKey(name)) {
        data.inputs.put(name, new InputView(name, DataType.fromApi(int1.get()), new long[0],
            long1.get(), new long[0], new long[0], new BufferLocation[0]));
      }
    }
  }

  /**
   * Where Triton says a buffer lies ({@code TRITONSERVER_MemoryType} and its id); a memory type
   * this backend does not know fails the request (UNSUPPORTED), naming the input and what Triton
   * said.
   */
  static BufferLocation location(String input, int memoryType, long id) {
    if (memoryType == TRITONSERVER_MEMORY_CPU) {
      return id == 0 ? BufferLocation.CPU : new BufferLocation.Cpu(id);
    }
    if (memoryType == TRITONSERVER_MEMORY_CPU_PINNED) {
      return new BufferLocation.CpuPinned(id);
    }
    if (memoryType == TRITONSERVER_MEMORY_GPU && id >= 0 && id <= Integer.MAX_VALUE) {
      return new BufferLocation.Gpu((int) id);
    }
    throw new TritonException(TritonException.UNSUPPORTED, "input '" + input + "' is in memory type "
        + memoryType + ", id " + id + ", which java_onnxruntime does not know (it reads CPU, "
        + "CPU_PINNED and GPU memory)");
  }

  /** A non-owning view of a C string, re-aimed by {@link #at}. */
  private static final class Text extends BytePointer {
    Text at(long address) {
      this.address = address; // position, limit and capacity stay 0: strings end at their NUL
      return this;
    }
  }

  @Override
  public void close() {
    for (BytePointer n : inputNames) {
      n.close();
    }
    for (BytePointer n : outputNames) {
      n.close();
    }
    for (Pointer p : new Pointer[] {out, inputNamesArg, outputNamesArg, int1, int2, int3, long1}) {
      p.close();
    }
  }
}
