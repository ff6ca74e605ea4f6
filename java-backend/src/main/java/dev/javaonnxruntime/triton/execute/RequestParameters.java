package dev.javaonnxruntime.triton.execute;

import static dev.javaonnxruntime.triton.api.global.TritonApiLib.TRITONSERVER_PARAMETER_STRING;

import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.read.KeyParameters;
import dev.javaonnxruntime.read.RequestData;
import java.nio.ByteBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A request's parameters as {@link RequestCalls} writes them (per parameter: type, name length,
 * value length, then the name's bytes and a string value's first {@link
 * KeyParameters#MAX_KEY_BYTES} bytes, 8 to a value): keeps the {@code input_cache_key.*} and
 * {@code output_cache_key.*} ones (or their header spelling, see {@link
 * KeyParameters#HEADER_KEY_PREFIX}); the others are not ours and ignored. The texts are read from
 * the copy, with no JNI crossing per string.
 *
 * <p>A key is read on every request of a client that names its inputs, so the name is matched in
 * its bytes: no text is made of it unless it fails, and the tensor it names is the configured
 * name's own string (its hash computed once), which the later steps look up by. Owned by one
 * {@link RequestReader}; stateless past its names.
 */
final class RequestParameters {
  private final List<TensorConfig> inputs;
  private final byte[][] inputNames;
  private final List<TensorConfig> outputs;
  private final byte[][] outputNames;

  RequestParameters(List<TensorConfig> inputs, List<TensorConfig> outputs) {
    this.inputs = inputs;
    this.inputNames = utf8(inputs);
    this.outputs = outputs;
    this.outputNames = utf8(outputs);
  }

  /** Reads the parameter at value {@code at} of {@code v} ({@code bytes}: the same memory). */
  int read(LongBuffer v, ByteBuffer bytes, int at, RequestData data) {
    int type = (int) v.get(at);
    int nameLength = (int) v.get(at + 1);
    long valueLength = v.get(at + 2);
    int nameAt = (at + 3) * Long.BYTES;
    at += 3 + words(nameLength);
    int copied = type == TRITONSERVER_PARAMETER_STRING
        ? (int) Math.min(valueLength, KeyParameters.MAX_KEY_BYTES) : 0;
    int valueAt = at;
    at += words(copied);
    int prefix = KeyParameters.keyPrefix(bytes, nameAt, nameLength);
    if (prefix < 0) {
      return at;
    }
    if (type != TRITONSERVER_PARAMETER_STRING) {
      throw KeyParameters.notAString(text(bytes, nameAt, nameLength), prefix);
    }
    // A key is 1..256 bytes of valid UTF-8; its text is never echoed into another request.
    if (!KeyParameters.validLength(valueLength)) {
      throw KeyParameters.badLength(text(bytes, nameAt, nameLength), valueLength);
    }
    byte[] value = new byte[copied];
    bytes.get(valueAt * Long.BYTES, value);
    String key = KeyParameters.decodeOrNull(value);
    if (key == null) {
      throw KeyParameters.notUtf8(text(bytes, nameAt, nameLength));
    }
    boolean input = KeyParameters.namesInput(prefix);
    int tensorAt = nameAt + KeyParameters.prefixLength(prefix);
    int tensorLength = nameLength - KeyParameters.prefixLength(prefix);
    String tensor = input ? configured(inputs, inputNames, bytes, tensorAt, tensorLength)
        : configured(outputs, outputNames, bytes, tensorAt, tensorLength);
    if (input) {
      data.putCacheKey(tensor, key);
    } else {
      data.putOutputKey(tensor, key);
    }
    return at;
  }

  /**
   * The configured tensor whose UTF-8 name is the {@code length} bytes at {@code at}, by its own
   * string; a name the model does not have gets a new one (the checker refuses it, naming it).
   */
  private static String configured(List<TensorConfig> tensors, byte[][] names, ByteBuffer bytes,
      int at, int length) {
    for (int k = 0; k < names.length; k++) {
      if (equal(names[k], bytes, at, length)) {
        return tensors.get(k).name();
      }
    }
    return text(bytes, at, length);
  }

  private static boolean equal(byte[] name, ByteBuffer bytes, int at, int length) {
    if (name.length != length) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      if (name[i] != bytes.get(at + i)) {
        return false;
      }
    }
    return true;
  }

  /** The {@code length} bytes at byte {@code at}, as UTF-8 text. */
  private static String text(ByteBuffer bytes, int at, int length) {
    byte[] b = new byte[length];
    bytes.get(at, b);
    return new String(b, StandardCharsets.UTF_8);
  }

  private static byte[][] utf8(List<TensorConfig> tensors) {
    return tensors.stream().map(t -> t.name().getBytes(StandardCharsets.UTF_8))
        .toArray(byte[][]::new);
  }

  /** How many int64 values {@code length} copied bytes take. */
  private static int words(long length) {
    return (int) ((length + Long.BYTES - 1) / Long.BYTES);
  }
}
