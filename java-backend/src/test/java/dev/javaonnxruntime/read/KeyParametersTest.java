package dev.javaonnxruntime.read;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
