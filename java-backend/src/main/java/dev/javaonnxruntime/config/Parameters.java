package dev.javaonnxruntime.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's config.pbtxt {@code parameters} read by name, each value trimmed, each error naming
 * the model, the parameter, the value found and what is allowed. Used once, while {@link
 * ModelSettings#parse} runs.
 */
final class Parameters {
  private final String model;
  private final Map<String, String> values;

  Parameters(ModelConfig config) {
    this.model = config.name();
    this.values = config.parameters();
  }

  /** The trimmed value, or {@code absent} when the parameter is not set. */
  String text(String key, String absent) {
    String v = values.get(key);
    return v == null ? absent : v.trim();
  }

  /** Whether the parameter is set at all. */
  boolean has(String key) {
    return values.containsKey(key);
  }

  /** One of {@code allowed}; {@code absent} when not set. */
  String choice(String key, String absent, List<String> allowed) throws ConfigException {
    String v = text(key, absent);
    if (!allowed.contains(v)) {
      throw error(key, "is '" + v + "'; allowed values are " + allowed);
    }
    return v;
  }

  /** {@code "true"} or {@code "false"} (the default). */
  boolean flag(String key) throws ConfigException {
    return choice(key, "false", List.of("false", "true")).equals("true");
  }

  /** An integer {@code >= 0}; 0 when not set. */
  long count(String key) throws ConfigException {
    String v = text(key, "0");
    try {
      long n = Long.parseLong(v);
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw error(key, "must be an integer >= 0, got '" + v + "'");
  }

  /** An error about one parameter: "model 'm': parameter 'key' " + what. */
  ConfigException error(String key, String what) {
    return new ConfigException(where() + "parameter '" + key + "' " + what);
  }

  /** "model 'm': ", the start of every message about this model. */
  String where() {
    return "model '" + model + "': ";
  }

  /** The names set in the config that are not in {@code known} and do not start with a prefix. */
  List<String> unknown(List<String> known, String prefix) {
    return values.keySet().stream().filter(k -> !known.contains(k) && !k.startsWith(prefix))
        .sorted().toList();
  }

  /** Every (name, value) pair whose name starts with {@code prefix}, in config order, trimmed. */
  Map<String, String> withPrefix(String prefix) {
    Map<String, String> found = new LinkedHashMap<>();
    values.forEach((k, v) -> {
      if (k.startsWith(prefix)) {
        found.put(k, v.trim());
      }
    });
    return found;
  }
}
