package dev.javaonnxruntime.read;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A request's named keys keep the order and the last value the request gave, as a map would. */
class RequestDataTest {
  @Test
  void keysKeepTheirOrderAndTheLastValueNamed() {
    RequestData r = new RequestData(0);
    assertTrue(r.cacheKeys().isEmpty());
    r.putCacheKey("image", "a");
    assertEquals(Map.of("image", "a"), r.cacheKeys());
    r.putCacheKey("mask", "b");
    r.putCacheKey("text", "c");
    r.putCacheKey("image", "d");
    assertEquals(List.of("image", "mask", "text"), List.copyOf(r.cacheKeys().keySet()));
    assertEquals(List.of("d", "b", "c"), List.copyOf(r.cacheKeys().values()));
    assertTrue(r.outputKeys().isEmpty(), "an input's key is not an output's");
  }

  @Test
  void aRepeatedSingleKeyIsReplaced() {
    RequestData r = new RequestData(0);
    r.putOutputKey("logits", "k1");
    r.putOutputKey("logits", "k2");
    assertEquals(Map.of("logits", "k2"), r.outputKeys());
    assertTrue(r.cacheKeys().isEmpty(), "an output's key is not an input's");
  }
}
