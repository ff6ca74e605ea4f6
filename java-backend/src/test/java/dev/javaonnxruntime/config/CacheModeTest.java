package dev.javaonnxruntime.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class CacheModeTest {
  @Test
  void parsesEveryConfigValue() {
    assertEquals(CacheMode.OFF, CacheMode.parse("input-cache", "off"));
    assertEquals(CacheMode.CONTENT, CacheMode.parse("input-cache", "content"));
    assertEquals(CacheMode.KEY, CacheMode.parse("input-cache", " Key "));
    assertEquals(CacheMode.AUTO, CacheMode.parse("input-cache", "AUTO"));
  }

  @Test
  void rejectsUnknownValueNamingFieldValueAndAllowedValues() {
    IllegalArgumentException error =
        assertThrows(IllegalArgumentException.class, () -> CacheMode.parse("input-cache", "hash"));
    assertEquals(
        "input-cache must be one of off, content, key, auto; got 'hash'", error.getMessage());
    assertThrows(IllegalArgumentException.class, () -> CacheMode.parse("input-cache", null));
  }
}
