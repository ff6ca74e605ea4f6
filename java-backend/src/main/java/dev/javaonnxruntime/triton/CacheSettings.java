package dev.javaonnxruntime.triton;

import dev.javaonnxruntime.cache.CacheKey;
import dev.javaonnxruntime.cache.CacheMode;
import dev.javaonnxruntime.config.ConfigException;
import dev.javaonnxruntime.config.ModelConfig;
import dev.javaonnxruntime.config.TensorConfig;
import java.util.HashMap;
import java.util.Map;

/**
 * A model's input-cache settings from config.pbtxt {@code parameters}: {@code input_cache} (the
 * model's mode), {@code input_cache.<input>} (one input's mode), {@code input_cache_group} (the
 * scope of client-named keys and content entries; the model's name unless set) and {@code
 * input_cache_share_content} ({@code "true"}: content entries in the device-wide shared scope
 * instead of the group's). Immutable.
 */
final class CacheSettings {
  static final String DEFAULT_MODE = "auto";
  /** The parameter that puts a model's content entries in the device-wide shared scope. */
  static final String SHARE_CONTENT = "input_cache_share_content";

  private final Map<String, CacheMode> modes;
  final String group;
  /** {@code input_cache_share_content}: content entries shared device-wide, not per group. */
  final boolean shareContent;

  private CacheSettings(Map<String, CacheMode> modes, String group, boolean shareContent) {
    this.modes = modes;
    this.group = group;
    this.shareContent = shareContent;
  }

  static CacheSettings from(ModelConfig config) throws ConfigException {
    Map<String, String> p = config.parameters();
    CacheMode base = mode(p.getOrDefault("input_cache", DEFAULT_MODE), "input_cache", config);
    Map<String, CacheMode> modes = new HashMap<>();
    for (TensorConfig input : config.inputs()) {
      modes.put(input.name(), base);
    }
    for (Map.Entry<String, String> e : p.entrySet()) {
      if (e.getKey().startsWith("input_cache.")) {
        String input = e.getKey().substring("input_cache.".length());
        if (config.input(input) == null) {
          throw new ConfigException("model '" + config.name() + "': parameter '" + e.getKey()
              + "' names input '" + input + "', which the model does not have; inputs are "
              + config.inputs().stream().map(TensorConfig::name).toList());
        }
        modes.put(input, mode(e.getValue(), e.getKey(), config));
      }
    }
    String group = p.getOrDefault("input_cache_group", "").trim();
    if (group.length() > 128) {
      throw new ConfigException("model '" + config.name()
          + "': parameter 'input_cache_group' must be at most 128 characters");
    }
    String share = p.getOrDefault(SHARE_CONTENT, "false").trim();
    if (!share.equals("true") && !share.equals("false")) {
      throw new ConfigException("model '" + config.name() + "': parameter '" + SHARE_CONTENT
          + "' is '" + share + "'; allowed values are [false, true]");
    }
    return new CacheSettings(Map.copyOf(modes), group.isEmpty() ? config.name() : group,
        share.equals("true"));
  }

  /** The scope of this model's content keys: its group, or the shared scope if it opted in. */
  String contentScope() {
    return shareContent ? CacheKey.SHARED : group;
  }

  /** The mode of an input. */
  CacheMode mode(String input) {
    return modes.getOrDefault(input, CacheMode.OFF);
  }

  /** Whether any input of the model uses the cache at all. */
  boolean enabled() {
    return modes.values().stream().anyMatch(m -> m != CacheMode.OFF);
  }

  private static CacheMode mode(String value, String key, ModelConfig config) throws ConfigException {
    try {
      return CacheMode.parse("model '" + config.name() + "': parameter '" + key + "'", value);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage(), e);
    }
  }
}
