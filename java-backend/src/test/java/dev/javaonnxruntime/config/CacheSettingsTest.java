package dev.javaonnxruntime.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.javaonnxruntime.cache.CacheKey;
import dev.javaonnxruntime.cache.CacheStats;
import dev.javaonnxruntime.cache.ContentHasher;
import dev.javaonnxruntime.cache.HostBuffers;
import dev.javaonnxruntime.cache.InputCache;
import dev.javaonnxruntime.cache.Lease;
import dev.javaonnxruntime.cache.TensorLayout;
import dev.javaonnxruntime.cuda.HostBuffer;
import dev.javaonnxruntime.cuda.HostMemory;
import dev.javaonnxruntime.cuda.HostStream;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class CacheSettingsTest {
  private static final TensorLayout LAYOUT = new TensorLayout("FP32", new long[] {1, 4});

  private static ModelConfig config(String name, String params) throws ConfigException {
    return TestModels.config(name, 1, params);
  }

  private static CacheSettings cache(ModelConfig config) throws ConfigException {
    return ModelSettings.parse(config).cache();
  }

  private static String share(String value) {
    return TestModels.param("input_cache_share_content", value);
  }

  /** Stores the same bytes by content for each model, as resolve.CacheLookup keys them. */
  private static int entriesAfterEachModelSendsTheSameBytes(CacheSettings... models)
      throws Exception {
    HostMemory memory = new HostMemory();
    byte[] bytes = new byte[16];
    Arrays.fill(bytes, (byte) 3);
    CacheStats stats = new CacheStats();
    try (InputCache cache = new InputCache(memory, 1 << 20);
        ContentHasher hasher = new ContentHasher(1);
        HostBuffer source = new HostBuffer(bytes.length)) {
      source.put(0, bytes);
      HostBuffers input = HostBuffers.single(source.address(), bytes.length);
      for (CacheSettings model : models) {
        CacheKey.Content key = cache.contentKey(hasher, model.contentScope(), input, LAYOUT, stats);
        Lease hit = cache.lookup(key, stats);
        try (Lease lease = hit != null ? hit : cache.store(key, LAYOUT, bytes.length,
            HostStream.INSTANCE, dst -> memory.copyHostToDevice(dst, source.address(),
                bytes.length, HostStream.INSTANCE), stats)) {
          assertNotNull(lease);
        }
      }
      return cache.entryCount();
    }
  }

  @Test
  void keepsContentOfTwoGroupsInTwoEntriesByDefault() throws Exception {
    CacheSettings a = cache(config("a", ""));
    CacheSettings b = cache(config("b", ""));
    assertFalse(a.shareContent());
    assertEquals("a", a.contentScope());
    assertEquals(2, entriesAfterEachModelSendsTheSameBytes(a, b));
  }

  @Test
  void keepsContentOfOneGroupInOneEntry() throws Exception {
    String group = TestModels.param("input_cache_group", "g");
    CacheSettings a = cache(config("a", group));
    CacheSettings b = cache(config("b", group));
    assertEquals(1, entriesAfterEachModelSendsTheSameBytes(a, b));
  }

  @Test
  void sharesContentOfTwoGroupsInOneEntryWhenBothAskForIt() throws Exception {
    CacheSettings a = cache(config("a", share("true")));
    CacheSettings b = cache(config("b", share("true")));
    assertTrue(a.shareContent());
    assertEquals("a", a.group());
    assertEquals(1, entriesAfterEachModelSendsTheSameBytes(a, b));
  }

  @Test
  void keepsAGroupThatDoesNotShareApartFromTheSharedScope() throws Exception {
    CacheSettings a = cache(config("a", share("true")));
    CacheSettings b = cache(config("b", share("false")));
    assertEquals(2, entriesAfterEachModelSendsTheSameBytes(a, b));
  }

  @Test
  void sharedScopeIsTheCachesSharedScope() throws Exception {
    assertEquals(CacheKey.SHARED, cache(config("a", share("true"))).contentScope());
  }

  @Test
  void refusesAShareValueOtherThanTrueOrFalse() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> cache(config("a", share("yes"))));
    assertTrue(e.getMessage().contains("input_cache_share_content"), e.getMessage());
  }
}
