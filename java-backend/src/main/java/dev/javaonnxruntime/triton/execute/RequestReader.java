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
import dev.javaonnxruntime.triton.api.TRITONBACKEND_Input;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_Request;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The read step at the boundary: reads a request's inputs, parameters and requested outputs
 * through Triton's API into a {@link RequestData}, which knows no Triton handle (what a key
 * parameter must be is {@link KeyParameters}'s). Its out-parameters are allocated once and
 * reused, so reading allocates no native memory per request. Owned by one instance, used only on
 * its execute thread; closed with it.
 */
final class RequestReader implements AutoCloseable {
  private final IntPointer int1 = new IntPointer(1);
  private final IntPointer int2 = new IntPointer(1);
  private final IntPointer int3 = new IntPointer(1);
  private final LongPointer long1 = new LongPointer(1);
  private final LongPointer long2 = new LongPointer(1);
  /**
   * Handles Triton's calls fill in place ({@code @ByPtrPtr}): reading a request makes no JavaCPP
   * object through JNI. Views: they own nothing.
   */
  private final TRITONBACKEND_Input input = new TRITONBACKEND_Input();
  private final LongPointer shapeView = new LongPointer();
  private final Pointer bufferView = new Pointer();
  private final BytePointer nameView = new BytePointer();
  /** A parameter's name and its value (a string's, for the key parameters). */
  private final BytePointer parameterView = new BytePointer();
  private final BytePointer valueView = new BytePointer();
  /** The model's inputs and outputs, in config order, and their names as C strings. */
  private final List<TensorConfig> inputs;
  private final BytePointer[] inputNames;
  private final List<TensorConfig> outputs;
  private final BytePointer[] outputNames;

  RequestReader(ModelConfig config) {
    inputs = config.inputs();
    outputs = config.outputs();
    inputNames = inputs.stream().map(c -> new BytePointer(c.name())).toArray(BytePointer[]::new);
    outputNames = outputs.stream().map(c -> new BytePointer(c.name())).toArray(BytePointer[]::new);
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

  /** Reads everything of {@code request} the later steps use into {@code data}. */
  void read(TRITONBACKEND_Request request, RequestData data) {
    readInputs(request, data);
    readCacheKeys(request, data);
    readRequestedOutputs(request, data);
  }

  /**
   * Reads every input the request carries (checking is the caller's job): the configured ones by
   * name, as Triton's stock backend does; only a request that carries more inputs than it has of
   * the configured ones is listed by index, to name the others.
   */
  private void readInputs(TRITONBACKEND_Request request, RequestData data) {
    Errors.check(TRITONBACKEND_RequestInputCount(request, int1), "TRITONBACKEND_RequestInputCount");
    int count = int1.get();
    int found = 0;
    for (int k = 0; k < inputNames.length && found < count; k++) {
      if (Errors.checkQuietly(TRITONBACKEND_RequestInput(request, inputNames[k], input)) == null) {
        found++;
        readInput(data, inputs.get(k).name());
      }
    }
    for (int i = 0; found < count && i < count; i++) {
      Errors.check(TRITONBACKEND_RequestInputByIndex(request, i, input),
          "TRITONBACKEND_RequestInputByIndex");
      Errors.check(TRITONBACKEND_InputProperties(input, nameView, int1, shapeView, int2, long1, int3),
          "TRITONBACKEND_InputProperties");
      String name = nameView.getString();
      if (!data.inputs.containsKey(name)) {
        found++;
        readInput(data, name);
      }
    }
  }

  /** Reads {@link #input}, named {@code name}, into the request's inputs. */
  private void readInput(RequestData data, String name) {
    Errors.check(TRITONBACKEND_InputProperties(input, nameView, int1, shapeView, int2, long1, int3),
        "TRITONBACKEND_InputProperties");
    DataType type = DataType.fromApi(int1.get());
    int dims = int2.get();
    long[] shape = new long[dims];
    if (dims > 0) {
      shapeView.get(shape, 0, dims);
    }
    long byteSize = long1.get();
    int buffers = int3.get();
    long[] addresses = new long[buffers];
    long[] sizes = new long[buffers];
    BufferLocation[] locations = new BufferLocation[buffers];
    for (int b = 0; b < buffers; b++) {
      int1.put(0); // preference: CPU; Triton returns where the bytes are, never moves them
      long2.put(0);
      Errors.check(TRITONBACKEND_InputBuffer(input, b, bufferView, long1, int1, long2),
          "TRITONBACKEND_InputBuffer");
      addresses[b] = bufferView.address();
      sizes[b] = long1.get();
      locations[b] = location(name, int1.get(), long2.get());
    }
    data.inputs.put(name, new InputView(name, type, shape, byteSize, addresses, sizes, locations));
  }

  /**
   * Reads the {@code input_cache_key.*} and {@code output_cache_key.*} parameters (or their
   * header spellings, see {@link KeyParameters#HEADER_KEY_PREFIX}); other parameters are not ours
   * and ignored.
   */
  private void readCacheKeys(TRITONBACKEND_Request request, RequestData data) {
    Errors.check(TRITONBACKEND_RequestParameterCount(request, int1),
        "TRITONBACKEND_RequestParameterCount");
    int count = int1.get();
    for (int i = 0; i < count; i++) {
      Errors.check(TRITONBACKEND_RequestParameter(request, i, parameterView, int1, valueView),
          "TRITONBACKEND_RequestParameter");
      String key = parameterView.getString();
      int prefix = KeyParameters.keyPrefix(key);
      if (prefix < 0) {
        continue;
      }
      if (int1.get() != TRITONSERVER_PARAMETER_STRING) {
        throw KeyParameters.notAString(key, prefix);
      }
      (KeyParameters.namesInput(prefix) ? data.cacheKeys : data.outputKeys)
          .put(KeyParameters.tensor(key, prefix), cacheKey(key, valueView));
    }
  }

  /**
   * The outputs the request asked for, a configured one as its config's name (no string is made
   * for it), another as the client spelled it (the checker refuses it).
   */
  private void readRequestedOutputs(TRITONBACKEND_Request request, RequestData data) {
    Errors.check(TRITONBACKEND_RequestOutputCount(request, int1), "TRITONBACKEND_RequestOutputCount");
    int count = int1.get();
    List<String> names = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      Errors.check(TRITONBACKEND_RequestOutputName(request, i, nameView), "TRITONBACKEND_RequestOutputName");
      names.add(configured(nameView));
    }
    data.requestedOutputs = names;
  }

  private String configured(BytePointer name) {
    for (int k = 0; k < outputNames.length; k++) {
      if (BytePointer.strcmp(name, outputNames[k]) == 0) {
        return outputs.get(k).name();
      }
    }
    return name.getString();
  }

  /** A key is 1..256 bytes of valid UTF-8; its text is never echoed into another request. */
  private static String cacheKey(String parameter, BytePointer value) {
    long length = BytePointer.strlen(value);
    KeyParameters.checkLength(parameter, length);
    byte[] bytes = new byte[(int) length];
    value.get(bytes);
    return KeyParameters.decode(parameter, bytes);
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

  @Override
  public void close() {
    for (BytePointer n : inputNames) {
      n.close();
    }
    for (BytePointer n : outputNames) {
      n.close();
    }
    int1.close();
    int2.close();
    int3.close();
    long1.close();
    long2.close();
  }
}
