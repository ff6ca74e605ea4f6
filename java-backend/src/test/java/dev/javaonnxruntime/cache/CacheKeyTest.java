package dev.javaonnxruntime.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

class CacheKeyTest {
  private static final Hash128 HASH = new Hash128(1, 2);

  @Test
  void equalsContentKeyOnlyForSameScopeHashTypeAndShape() {
    CacheKey key = CacheKey.content("g", HASH, new TensorLayout("FP32", new long[] {2, 3}));
    assertEquals(key, CacheKey.content("g", new Hash128(1, 2), new TensorLayout("FP32", new long[] {2, 3})));
    assertEquals(key.hashCode(),
        CacheKey.content("g", HASH, new TensorLayout("FP32", new long[] {2, 3})).hashCode());
    assertNotEquals(key, CacheKey.content("g", HASH, new TensorLayout("FP32", new long[] {3, 2})));
    assertNotEquals(key, CacheKey.content("g", HASH, new TensorLayout("INT32", new long[] {2, 3})));
    assertNotEquals(key, CacheKey.content("g", new Hash128(1, 3), new TensorLayout("FP32", new long[] {2, 3})));
  }

  @Test
  void scopesNamedKeysToTheirGroup() {
    assertEquals(CacheKey.named("a", "x"), CacheKey.named("a", "x"));
    assertNotEquals(CacheKey.named("a", "x"), CacheKey.named("b", "x"));
  }

  @Test
  void keepsLayoutImmutable() {
    long[] shape = {4};
    TensorLayout layout = new TensorLayout("FP32", shape);
    shape[0] = 5;
    layout.shape()[0] = 6;
    assertEquals(new TensorLayout("FP32", new long[] {4}), layout);
  }
}
