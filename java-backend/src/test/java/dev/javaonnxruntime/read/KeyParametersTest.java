package dev.javaonnxruntime.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class KeyParametersTest {
  @Test
  void readsTheBodyParameterSpellings() {
    assertEquals(0, keyPrefix("input_cache_key.image"));
    assertEquals(1, keyPrefix("output_cache_key.features"));
  }

  @Test
  void readsTheHeaderSpellingsAProxyCanName() {
    assertEquals(2, keyPrefix("input-cache-key-image"));
    assertEquals(3, keyPrefix("output-cache-key-features"));
  }

  @Test
  void matchesThePrefixIgnoringCaseAsHttpHeaderNamesAre() {
    // Triton forwards a header under the name the client spelled; urllib sends "Input-cache-key-image".
    assertEquals(2, keyPrefix("Input-cache-key-image"));
    assertEquals(0, keyPrefix("INPUT_CACHE_KEY.image"));
  }

  @Test
  void ignoresOtherParameters() {
    assertEquals(-1, keyPrefix("input_cache_key"));
    assertEquals(-1, keyPrefix("input-cache-key.image"));
    assertEquals(-1, keyPrefix("x-input-cache-key-image"));
    assertEquals(-1, keyPrefix("priority"));
  }

  @Test
  void decodesAsciiAndMultiByteKeysAlike() {
    assertEquals("seed.image-1",
        KeyParameters.decodeOrNull("seed.image-1".getBytes(StandardCharsets.US_ASCII)));
    assertEquals("bild-\u00e4\u4e2d",
        KeyParameters.decodeOrNull("bild-\u00e4\u4e2d".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void refusesInvalidUtf8WithoutEchoingIt() {
    byte[] bad = {'k', (byte) 0xc3, '(', 'x'};
    assertNull(KeyParameters.decodeOrNull(bad));
    TritonException e = KeyParameters.notUtf8("input_cache_key.image");
    assertEquals(TritonException.INVALID_ARG, e.code());
    assertTrue(e.getMessage().contains("'input_cache_key.image' is not valid UTF-8"), e.getMessage());
    assertFalse(e.getMessage().contains("k\u00c3("), e.getMessage());
  }

  @Test
  void allowsKeysOfOneTo256Bytes() {
    assertFalse(KeyParameters.validLength(0));
    assertTrue(KeyParameters.validLength(1));
    assertTrue(KeyParameters.validLength(KeyParameters.MAX_KEY_BYTES));
    assertFalse(KeyParameters.validLength(KeyParameters.MAX_KEY_BYTES + 1L));
    assertTrue(KeyParameters.badLength("input_cache_key.image", 0).getMessage()
        .contains("must be 1 to 256 bytes long, got 0"));
  }

  /** The prefix of {@code name} as the reader finds it: in its UTF-8 bytes. */
  private static int keyPrefix(String name) {
    byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
    return KeyParameters.keyPrefix(ByteBuffer.wrap(bytes), 0, bytes.length);
  }
}
