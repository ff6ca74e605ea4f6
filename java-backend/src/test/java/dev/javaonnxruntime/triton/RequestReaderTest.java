package dev.javaonnxruntime.triton;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class RequestReaderTest {
  @Test
  void readsTheBodyParameterSpellings() {
    assertEquals(0, RequestReader.keyPrefix("input_cache_key.image"));
    assertEquals(1, RequestReader.keyPrefix("output_cache_key.features"));
  }

  @Test
  void readsTheHeaderSpellingsAProxyCanName() {
    assertEquals(2, RequestReader.keyPrefix("input-cache-key-image"));
    assertEquals(3, RequestReader.keyPrefix("output-cache-key-features"));
  }

  @Test
  void matchesThePrefixIgnoringCaseAsHttpHeaderNamesAre() {
    // Triton forwards a header under the name the client spelled; urllib sends "Input-cache-key-image".
    assertEquals(2, RequestReader.keyPrefix("Input-cache-key-image"));
    assertEquals(0, RequestReader.keyPrefix("INPUT_CACHE_KEY.image"));
  }

  @Test
  void ignoresOtherParameters() {
    assertEquals(-1, RequestReader.keyPrefix("input_cache_key"));
    assertEquals(-1, RequestReader.keyPrefix("input-cache-key.image"));
    assertEquals(-1, RequestReader.keyPrefix("x-input-cache-key-image"));
    assertEquals(-1, RequestReader.keyPrefix("priority"));
  }
}
