package dev.javaonnxruntime.triton;

import static dev.javaonnxruntime.triton.api.global.TritonApiLib.*;

import dev.javaonnxruntime.config.DataType;
import dev.javaonnxruntime.config.ModelConfig;
import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_Input;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * Reads a request's inputs, parameters and requested outputs through Triton's API into a {@link
 * RequestData}. Its out-parameters are allocated once and reused, so reading allocates no native
 * memory per request. Owned by one instance, used only on its execute thread; closed with it.
 */
final class RequestReader implements AutoCloseable {
  /** The request parameter naming an input's cache key: {@code input_cache_key.<input name>}. */
  static final String KEY_PREFIX = "input_cache_key.";
  /** The request parameter keeping an output resident: {@code output_cache_key.<output name>}. */
  static final String OUTPUT_KEY_PREFIX = "output_cache_key.";
  /**
   * The same keys spelled as HTTP headers every proxy can name: {@code input-cache-key-<input>}
   * and {@code output-cache-key-<output>} (nginx's {@code $http_} variables cannot hold a '.').
   * Triton forwards a header matching {@code --http-header-forward-pattern} as a string
   * parameter named as the client spelled the header, after the body's parameters, so the
   * prefixes are matched ignoring ASCII case and, for one tensor, the last parameter wins: a
   * header over the body.
   */
  static final String HEADER_KEY_PREFIX = "input-cache-key-";
  static final String HEADER_OUTPUT_KEY_PREFIX = "output-cache-key-";
  private static final String[] PREFIXES =
      {KEY_PREFIX, OUTPUT_KEY_PREFIX, HEADER_KEY_PREFIX, HEADER_OUTPUT_KEY_PREFIX};
  static final int MAX_KEY_BYTES = 256;

  private final PointerPointer<Pointer> out = new PointerPointer<>(1);
  private final PointerPointer<Pointer> out2 = new PointerPointer<>(1);
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
   * Reads every input the request carries (checking is the caller's job): the configured ones by
   * name, as Triton's stock backend does; only a request that carries more inputs than it has of
   * the configured ones is listed by index, to name the others.
   */
  void readInputs(RequestData data) {
    Errors.check(TRITONBACKEND_RequestInputCount(data.request, int1), "TRITONBACKEND_RequestInputCount");
    int count = int1.get();
    int found = 0;
    for (int k = 0; k < inputNames.length && found < count; k++) {
      if (Errors.checkQuietly(TRITONBACKEND_RequestInput(data.request, inputNames[k], input)) == null) {
        found++;
        read(data, inputs.get(k).name());
      }
    }
    for (int i = 0; found < count && i < count; i++) {
      Errors.check(TRITONBACKEND_RequestInputByIndex(data.request, i, input),
          "TRITONBACKEND_RequestInputByIndex");
      Errors.check(TRITONBACKEND_InputProperties(input, nameView, int1, shapeView, int2, long1, int3),
          "TRITONBACKEND_InputProperties");
      String name = nameView.getString();
      if (!data.inputs.containsKey(name)) {
        found++;
        read(data, name);
      }
    }
  }

  /** Reads {@link #input}, named {@code name}, into the request's inputs. */
  private void read(RequestData data, String name) {
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
      locations[b] = BufferLocation.of(name, int1.get(), long2.get());
    }
    data.inputs.put(name, new InputView(name, type, shape, byteSize, addresses, sizes, locations));
  }

  /**
   * Reads the {@code input_cache_key.*} and {@code output_cache_key.*} parameters (or their
   * header spellings, see {@link #HEADER_KEY_PREFIX}); other parameters are not ours and ignored.
   */
  void readCacheKeys(RequestData data) {
    Errors.check(TRITONBACKEND_RequestParameterCount(data.request, int1),
        "TRITONBACKEND_RequestParameterCount");
    int count = int1.get();
    for (int i = 0; i < count; i++) {
      Errors.check(TRITONBACKEND_RequestParameter(data.request, i, out, int1, out2),
          "TRITONBACKEND_RequestParameter");
      String key = out.getString(0);
      int prefix = keyPrefix(key);
      if (prefix < 0) {
        continue;
      }
      boolean input = prefix == 0 || prefix == 2;
      String tensor = key.substring(PREFIXES[prefix].length());
      if (int1.get() != TRITONSERVER_PARAMETER_STRING) {
        throw new TritonException(TritonException.INVALID_ARG,
            "request parameter '" + key + "' must be a string naming the cache key of "
                + (input ? "input '" : "output '") + tensor + "'");
      }
      (input ? data.cacheKeys : data.outputKeys).put(tensor, cacheKey(key, new BytePointer(out2.get(0))));
    }
  }

  /** The index in {@link #PREFIXES} of the prefix that starts the parameter name, or -1. */
  static int keyPrefix(String name) {
    for (int i = 0; i < PREFIXES.length; i++) {
      if (name.regionMatches(true, 0, PREFIXES[i], 0, PREFIXES[i].length())) {
        return i;
      }
    }
    return -1;
  }

  /**
   * The outputs the request asked for, a configured one as its config's name (no string is made
   * for it), another as the client spelled it (the checker refuses it).
   */
  void readRequestedOutputs(RequestData data) {
    Errors.check(TRITONBACKEND_RequestOutputCount(data.request, int1), "TRITONBACKEND_RequestOutputCount");
    int count = int1.get();
    List<String> names = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      Errors.check(TRITONBACKEND_RequestOutputName(data.request, i, nameView), "TRITONBACKEND_RequestOutputName");
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
    if (length == 0 || length > MAX_KEY_BYTES) {
      throw new TritonException(TritonException.INVALID_ARG, "request parameter '" + parameter
          + "' must be 1 to " + MAX_KEY_BYTES + " bytes long, got " + length);
    }
    byte[] bytes = new byte[(int) length];
    value.get(bytes);
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new TritonException(TritonException.INVALID_ARG,
          "request parameter '" + parameter + "' is not valid UTF-8");
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
    out.close();
    out2.close();
    int1.close();
    int2.close();
    int3.close();
    long1.close();
    long2.close();
  }
}
