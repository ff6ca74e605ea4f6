package dev.javaonnxruntime.triton;

import dev.javaonnxruntime.config.ConfigException;
import dev.javaonnxruntime.config.ModelConfig;
import dev.javaonnxruntime.config.TensorConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A model's input-cache settings from config.pbtxt {@code parameters}: {@code input_cache} (the
 * model's mode), {@code input_cache.<input>} (one input's mode) and {@code input_cache_group}
 * (the scope of client-named keys; the model's name unless set). Immutable.
 */
final class CacheSettings {
  static final List<String> MODES = List.of("off", "content", "key", "auto");
  static final String DEFAULT_MODE = "auto";

  private final Map<String, String> modes;
  final String group;

  private CacheSettings(Map<String, String> modes, String group) {
    this.modes = modes;
    this.group = group;
  }

  static CacheSettings from(ModelConfig config) throws ConfigException {
    Map<String, String> p = config.parameters();
    String base = mode(p.getOrDefault("input_cache", DEFAULT_MODE), "input_cache", config);
    Map<String, String> modes = new HashMap<>();
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
    return new CacheSettings(Map.copyOf(modes), group.isEmpty() ? config.name() : group);
  }

  /** The mode of an input: one of {@link #MODES}. */
  String mode(String input) {
    return modes.getOrDefault(input, "off");
  }

  private static String mode(String value, String key, ModelConfig config) throws ConfigException {
    String v = value.trim().toLowerCase(Locale.ROOT);
    if (!MODES.contains(v)) {
      throw new ConfigException("model '" + config.name() + "': parameter '" + key + "' is '"
          + value + "'; allowed values are " + MODES);
    }
    return v;
  }
}
