package dev.javaonnxruntime.triton.execute;

import static dev.javaonnxruntime.triton.api.global.TritonApiLib.TRITONSERVER_PARAMETER_STRING;

import dev.javaonnxruntime.read.KeyParameters;
import dev.javaonnxruntime.read.RequestData;
import java.nio.ByteBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A request's parameters as {@link RequestCalls} writes them (per parameter: type, name length,
 * value length, then the name's bytes and a string value's first {@link
 * KeyParameters#MAX_KEY_BYTES} bytes, 8 to a value): keeps the {@code input_cache_key.*} and
 * {@code output_cache_key.*} ones (or their header spelling, see {@link
 * KeyParameters#HEADER_KEY_PREFIX}); the others are not ours and ignored. The texts are read from
 * the copy, with no JNI crossing per string.
 */
final class RequestParameters {
  private RequestParameters() {}

  /** Reads the parameter at value {@code at} of {@code v} ({@code bytes}: the same memory). */
  static int read(LongBuffer v, ByteBuffer bytes, int at, RequestData data) {
    int type = (int) v.get(at);
    int nameLength = (int) v.get(at + 1);
    long valueLength = v.get(at + 2);
    String name = new String(copy(bytes, at + 3, nameLength), StandardCharsets.UTF_8);
    at += 3 + words(nameLength);
    int copied = type == TRITONSERVER_PARAMETER_STRING
        ? (int) Math.min(valueLength, KeyParameters.MAX_KEY_BYTES) : 0;
    int valueAt = at;
    at += words(copied);
    int prefix = KeyParameters.keyPrefix(name);
    if (prefix < 0) {
      return at;
    }
    if (type != TRITONSERVER_PARAMETER_STRING) {
      throw KeyParameters.notAString(name, prefix);
    }
    // A key is 1..256 bytes of valid UTF-8; its text is never echoed into another request.
    KeyParameters.checkLength(name, valueLength);
    String key = KeyParameters.decode(name, copy(bytes, valueAt, copied));
    (KeyParameters.namesInput(prefix) ? data.cacheKeys : data.outputKeys)
        .put(KeyParameters.tensor(name, prefix), key);
    return at;
  }

  /** The {@code length} bytes copied from value {@code at} on. */
  private static byte[] copy(ByteBuffer bytes, int at, int length) {
    byte[] b = new byte[length];
    bytes.get(at * Long.BYTES, b);
    return b;
  }

  /** How many int64 values {@code length} copied bytes take. */
  private static int words(long length) {
    return (int) ((length + Long.BYTES - 1) / Long.BYTES);
  }
}
