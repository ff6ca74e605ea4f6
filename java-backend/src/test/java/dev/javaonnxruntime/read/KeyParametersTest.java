package dev.javaonnxruntime.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class KeyParametersTest {
  @Test
  void readsTheBodyParameterSpellings() {
    assertEquals(0, KeyParameters.keyPrefix("input_cache_key.image"));
    assertEquals(1, KeyParameters.keyPrefix("output_cache_key.features"));
  }

  @Test
  void readsTheHeaderSpellingsAProxyCanName() {
    assertEquals(2, KeyParameters.keyPrefix("input-cache-key-image"));
    assertEquals(3, KeyParameters.keyPrefix("output-cache-key-features"));
  }

  @Test
  void matchesThePrefixIgnoringCaseAsHttpHeaderNamesAre() {
    // Triton forwards a header under the name the client spelled; urllib sends "Input-cache-key-image".
    assertEquals(2, KeyParameters.keyPrefix("Input-cache-key-image"));
    assertEquals(0, KeyParameters.keyPrefix("INPUT_CACHE_KEY.image"));
  }

  @Test
  void ignoresOtherParameters() {
    assertEquals(-1, KeyParameters.keyPrefix("input_cache_key"));
    assertEquals(-1, KeyParameters.keyPrefix("input-cache-key.image"));
    assertEquals(-1, KeyParameters.keyPrefix("x-input-cache-key-image"));
    assertEquals(-1, KeyParameters.keyPrefix("priority"));
  }

  @Test
  void decodesAsciiAndMultiByteKeysAlike() {
    assertEquals("seed.image-1", KeyParameters.decode("input_cache_key.image",
        "seed.image-1".getBytes(StandardCharsets.US_ASCII)));
    assertEquals("bild-\u00e4\u4e2d", KeyParameters.decode("input_cache_key.image",
        "bild-\u00e4\u4e2d".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void refusesInvalidUtf8WithoutEchoingIt() {
    byte[] bad = {'k', (byte) 0xc3, '(', 'x'};
    TritonException e = assertThrows(TritonException.class,
        () -> KeyParameters.decode("input_cache_key.image", bad));
    assertEquals(TritonException.INVALID_ARG, e.code());
    assertTrue(e.getMessage().contains("'input_cache_key.image' is not valid UTF-8"), e.getMessage());
  }
}
