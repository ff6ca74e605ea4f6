package dev.javaonnxruntime.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BackendConfigTest {
  private static BackendConfig parse(String cmdline) throws ConfigException {
    return BackendConfig.parse("{\"cmdline\":{" + cmdline + "}}");
  }

  private static String refusal(String cmdline) {
    return assertThrows(ConfigException.class, () -> parse(cmdline)).getMessage();
  }

  @Test
  void defaultsWhenNothingIsSet() throws Exception {
    BackendConfig c = parse("");
    assertEquals(BackendConfig.DEFAULT_INPUT_CACHE_BYTES, c.inputCacheBytes());
    assertEquals(4, c.defaultMaxBatchSize());
    assertTrue(c.autoComplete());
    assertTrue(c.streamPerInstance());
    assertEquals(BackendConfig.DEFAULT_HASH_SPIN_MICROS, c.hashSpinMicros());
  }

  @Test
  void readsEveryDocumentedKey() throws Exception {
    BackendConfig c = parse("\"input-cache-bytes\":\"1024\",\"input-cache-hash-threads\":\"3\","
        + "\"stream-per-instance\":\"false\",\"default-max-batch-size\":\"16\","
        + "\"auto-complete-config\":\"false\",\"input-cache-hash-spin-us\":\"200\"");
    assertEquals(1024, c.inputCacheBytes());
    assertEquals(3, c.hashThreads());
    assertEquals(200, c.hashSpinMicros());
    assertFalse(c.streamPerInstance());
    assertEquals(16, c.defaultMaxBatchSize());
    assertFalse(c.autoComplete());
  }

  @Test
  void refusesABooleanSettingThatIsNeitherTrueNorFalse() {
    String m = refusal("\"auto-complete-config\":\"no\"");
    assertTrue(m.contains("auto-complete-config") && m.contains("\"no\""), m);
    m = refusal("\"stream-per-instance\":\"1\"");
    assertTrue(m.contains("stream-per-instance") && m.contains("\"1\""), m);
  }

  @Test
  void refusesNumbersOutOfRangeNamingTheKey() {
    assertTrue(refusal("\"default-max-batch-size\":\"-1\"").contains("default-max-batch-size"));
    assertTrue(refusal("\"input-cache-bytes\":\"-5\"").contains("input-cache-bytes"));
    assertTrue(refusal("\"input-cache-hash-threads\":\"0\"").contains("input-cache-hash-threads"));
    assertTrue(refusal("\"input-cache-bytes\":\"lots\"").contains("must be an integer"));
    assertTrue(refusal("\"input-cache-hash-spin-us\":\"-1\"").contains("input-cache-hash-spin-us"));
    assertTrue(refusal("\"input-cache-hash-spin-us\":\"10001\"").contains("0..10000"));
  }
}
