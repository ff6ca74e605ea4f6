package dev.javaonnxruntime.read;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The request parameters that name cache keys, and what a key must be. {@code
 * input_cache_key.<input>} names the key an input is stored or looked up under; {@code
 * output_cache_key.<output>} keeps an output resident under a key. Stateless.
 */
public final class KeyParameters {
  /** The request parameter naming an input's cache key: {@code input_cache_key.<input name>}. */
  public static final String KEY_PREFIX = "input_cache_key.";
  /** The request parameter keeping an output resident: {@code output_cache_key.<output name>}. */
  public static final String OUTPUT_KEY_PREFIX = "output_cache_key.";
  /**
   * The same keys spelled as HTTP headers every proxy can name: {@code input-cache-key-<input>}
   * and {@code output-cache-key-<output>} (nginx's {@code $http_} variables cannot hold a '.').
   * Triton forwards a header matching {@code --http-header-forward-pattern} as a string
   * parameter named as the client spelled the header, after the body's parameters, so the
   * prefixes are matched ignoring ASCII case and, for one tensor, the last parameter wins: a
   * header over the body.
   */
  public static final String HEADER_KEY_PREFIX = "input-cache-key-";
  /** The header spelling of {@link #OUTPUT_KEY_PREFIX}. */
  public static final String HEADER_OUTPUT_KEY_PREFIX = "output-cache-key-";
  private static final String[] PREFIXES =
      {KEY_PREFIX, OUTPUT_KEY_PREFIX, HEADER_KEY_PREFIX, HEADER_OUTPUT_KEY_PREFIX};
  private static final byte[][] PREFIX_BYTES = new byte[PREFIXES.length][];

  static {
    for (int i = 0; i < PREFIXES.length; i++) {
      PREFIX_BYTES[i] = PREFIXES[i].getBytes(StandardCharsets.US_ASCII);
    }
  }
  /** The longest key, in bytes of UTF-8. */
  public static final int MAX_KEY_BYTES = 256;

  private KeyParameters() {}

  /**
   * The index of the prefix that starts the parameter name whose UTF-8 bytes are the {@code
   * length} bytes of {@code b} at {@code at} (0 to 3, as declared), or -1. ASCII letters match in
   * either case, as in HTTP header names; no other character does.
   */
  public static int keyPrefix(ByteBuffer b, int at, int length) {
    for (int i = 0; i < PREFIXES.length; i++) {
      if (startsWith(b, at, length, PREFIX_BYTES[i])) {
        return i;
      }
    }
    return -1;
  }

  /** The length in bytes of prefix {@code prefix} (of {@link #keyPrefix}). */
  public static int prefixLength(int prefix) {
    return PREFIX_BYTES[prefix].length;
  }

  private static boolean startsWith(ByteBuffer b, int at, int length, byte[] lowerCase) {
    if (length < lowerCase.length) {
      return false;
    }
    for (int i = 0; i < lowerCase.length; i++) {
      int c = b.get(at + i);
      if (c >= 'A' && c <= 'Z') {
        c += 'a' - 'A';
      }
      if (c != lowerCase[i]) {
        return false;
      }
    }
    return true;
  }

  /** Whether prefix {@code prefix} (of {@link #keyPrefix}) names an input's key. */
  public static boolean namesInput(int prefix) {
    return prefix == 0 || prefix == 2;
  }

  /** The tensor a parameter of prefix {@code prefix} names. */
  public static String tensor(String name, int prefix) {
    return name.substring(PREFIXES[prefix].length());
  }

  /** Refuses a non-string value for key parameter {@code name} of {@code prefix}. */
  public static TritonException notAString(String name, int prefix) {
    return new TritonException(TritonException.INVALID_ARG,
        "request parameter '" + name + "' must be a string naming the cache key of "
            + (namesInput(prefix) ? "input '" : "output '") + tensor(name, prefix) + "'");
  }

  /** Whether a key of {@code length} bytes is allowed: 1..256. */
  public static boolean validLength(long length) {
    return length > 0 && length <= MAX_KEY_BYTES;
  }

  /** Refuses key parameter {@code parameter}, whose value is {@code length} bytes long. */
  public static TritonException badLength(String parameter, long length) {
    return new TritonException(TritonException.INVALID_ARG, "request parameter '" + parameter
        + "' must be 1 to " + MAX_KEY_BYTES + " bytes long, got " + length);
  }

  /** The key in {@code bytes}, or null when they are not valid UTF-8. */
  public static String decodeOrNull(byte[] bytes) {
    if (ascii(bytes)) { // the common case: every byte is its own character
      return new String(bytes, StandardCharsets.US_ASCII);
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /** Refuses key parameter {@code parameter}, whose value is not valid UTF-8. */
  public static TritonException notUtf8(String parameter) {
    return new TritonException(TritonException.INVALID_ARG,
        "request parameter '" + parameter + "' is not valid UTF-8");
  }

  private static boolean ascii(byte[] bytes) {
    for (byte b : bytes) {
      if (b < 0) {
        return false;
      }
    }
    return true;
  }
}
