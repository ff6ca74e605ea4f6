package dev.javaonnxruntime.config;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's input-cache settings: {@code input_cache} (the model's mode, {@code auto} unless set),
 * {@code input_cache.<input>} (one input's mode), {@code input_cache_group} (the scope of
 * client-named keys and content entries; the model's name unless set) and {@code
 * input_cache_share_content} ({@code "true"}: content entries in the device-wide shared scope
 * instead of the group's).
 *
 * @param modes the mode of every input the model declares
 * @param group the cache group, never empty
 * @param shareContent whether content entries go to the device-wide shared scope
 */
public record CacheSettings(Map<String, CacheMode> modes, String group, boolean shareContent) {
  /** The mode of a model whose config does not set {@code input_cache}. */
  public static final String DEFAULT_MODE = "auto";
  /**
   * The device-wide scope of content keys a model shares with every other that asks for it: the
   * empty group name, which no model's group can be (the cache's {@code CacheKey.SHARED}).
   */
  public static final String SHARED_SCOPE = "";
  static final String MODE = "input_cache";
  static final String MODE_PREFIX = "input_cache.";
  static final String GROUP = "input_cache_group";
  static final String SHARE_CONTENT = "input_cache_share_content";
  static final List<String> NAMES = List.of(MODE, GROUP, SHARE_CONTENT);

  /** Copies {@code modes}. */
  public CacheSettings {
    modes = Map.copyOf(modes);
  }

  static CacheSettings parse(ModelConfig config, Parameters p) throws ConfigException {
    CacheMode base = mode(p, MODE, p.text(MODE, DEFAULT_MODE));
    Map<String, CacheMode> modes = new HashMap<>();
    for (TensorConfig input : config.inputs()) {
      modes.put(input.name(), base);
    }
    for (Map.Entry<String, String> e : p.withPrefix(MODE_PREFIX).entrySet()) {
      String input = e.getKey().substring(MODE_PREFIX.length());
      if (config.input(input) == null) {
        throw p.error(e.getKey(), "names input '" + input + "', which the model does not have; "
            + "inputs are " + config.inputs().stream().map(TensorConfig::name).toList());
      }
      modes.put(input, mode(p, e.getKey(), e.getValue()));
    }
    String group = p.text(GROUP, "");
    if (group.length() > 128) {
      throw p.error(GROUP, "must be at most 128 characters");
    }
    return new CacheSettings(modes, group.isEmpty() ? config.name() : group,
        p.flag(SHARE_CONTENT));
  }

  /** The scope of this model's content keys: its group, or the shared scope if it opted in. */
  public String contentScope() {
    return shareContent ? SHARED_SCOPE : group;
  }

  /** The mode of an input ({@link CacheMode#OFF} for a name the model does not declare). */
  public CacheMode mode(String input) {
    return modes.getOrDefault(input, CacheMode.OFF);
  }

  /** Whether any input of the model uses the cache at all. */
  public boolean enabled() {
    return modes.values().stream().anyMatch(m -> m != CacheMode.OFF);
  }

  /** The inputs whose mode is not {@code off}. */
  public List<String> cachedInputs(ModelConfig config) {
    return config.inputs().stream().map(TensorConfig::name).filter(i -> mode(i) != CacheMode.OFF)
        .toList();
  }

  private static CacheMode mode(Parameters p, String key, String value) throws ConfigException {
    try {
      return CacheMode.parse(p.where() + "parameter '" + key + "'", value);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage(), e);
    }
  }
}
