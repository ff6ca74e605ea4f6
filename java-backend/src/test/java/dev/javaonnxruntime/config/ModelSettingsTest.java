package dev.javaonnxruntime.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ModelSettingsTest {
  private static ModelSettings parse(String... keysAndValues) throws ConfigException {
    StringBuilder params = new StringBuilder();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      params.append(i == 0 ? "" : ",").append(TestModels.param(keysAndValues[i], keysAndValues[i + 1]));
    }
    return ModelSettings.parse(TestModels.config("m", 4, params.toString()));
  }

  private static String refusal(String... keysAndValues) {
    return assertThrows(ConfigException.class, () -> parse(keysAndValues)).getMessage();
  }

  @Test
  void defaultsWhenNothingIsSet() throws Exception {
    ModelSettings s = parse();
    assertEquals(CacheMode.AUTO, s.cache().mode("x"));
    assertEquals("m", s.cache().group());
    assertTrue(s.graphs().enabled() && !s.graphs().asked()); // on, where the instance is KIND_GPU
    assertFalse(s.ortCopiesInputs());
    assertFalse(s.cpuFallback());
    assertEquals(0, s.intraOpThreads());
    assertEquals(0, s.faultEveryExecutes());
    assertEquals(List.of(), s.ignored());
  }

  @Test
  void readsEverySetting() throws Exception {
    ModelSettings s = parse("input_cache", "off", "input_staging", "ort", "cpu_fallback", "true",
        "intra_op_thread_count", " 4 ", "test_fault_execute_every", "3");
    assertTrue(s.ortCopiesInputs());
    assertTrue(s.cpuFallback());
    assertEquals(4, s.intraOpThreads());
    assertEquals(3, s.faultEveryExecutes());
  }

  @Test
  void listsTheParametersItDoesNotRead() throws Exception {
    assertEquals(List.of("input_cahce"), parse("input_cahce", "off", "input_cache.x", "key").ignored());
  }

  @Test
  void refusesEachBadValueNamingTheParameter() {
    assertEquals("model 'm': parameter 'input_staging' is 'copy'; allowed values are [pinned, ort]",
        refusal("input_staging", "copy"));
    assertEquals("model 'm': parameter 'cpu_fallback' is 'yes'; allowed values are [false, true]",
        refusal("cpu_fallback", "yes"));
    assertEquals("model 'm': parameter 'intra_op_thread_count' must be an integer >= 0, got '-1'",
        refusal("intra_op_thread_count", "-1"));
    assertTrue(refusal("intra_op_thread_count", "99999999999").contains("intra_op_thread_count"));
    assertEquals("model 'm': parameter 'test_fault_execute_every' must be an integer >= 0, got "
        + "'often'", refusal("test_fault_execute_every", "often"));
    assertTrue(refusal("input_cache", "hash").startsWith("model 'm': parameter 'input_cache' must "
        + "be one of off, content, key, auto"));
    assertTrue(refusal("input_cache.z", "off").contains("parameter 'input_cache.z' names input 'z'"));
    assertTrue(refusal("input_cache_group", "g".repeat(129)).contains("'input_cache_group'"));
  }

  @Test
  void refusesOrtStagingWithACachedInputNamingBoth() {
    String e = refusal("input_cache", "off", "input_cache.x", "content", "input_staging", "ort");
    assertTrue(e.contains("'input_staging' is 'ort'") && e.contains("inputs [x]")
        && e.contains("input_cache"), e);
  }
}
