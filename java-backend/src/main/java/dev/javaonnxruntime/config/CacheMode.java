package dev.javaonnxruntime.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How a model input uses the device cache, from the model config.
 *
 * <p>Why it exists: the config names the mode as a string; parsing it here, once per model, gives
 * one error message that names the value found and the values allowed. Immutable.
 */
public enum CacheMode {
  /** No caching: every request copies its input. */
  OFF("off"),
  /** Key by the hash of the bytes, data type and shape; shared by all models on the device. */
  CONTENT("content"),
  /** Key by a name the client sends with the request, within the model's cache group. */
  KEY("key"),
  /**
   * Content keys, but stop hashing an input while its hit rate stays low (the cache package's
   * {@code AutoHashPolicy}).
   */
  AUTO("auto");

  private final String configValue;

  CacheMode(String configValue) {
    this.configValue = configValue;
  }

  /** The string that selects this mode in the config. */
  public String configValue() {
    return configValue;
  }

  /**
   * Parses a config value (case and surrounding blanks ignored).
   *
   * @param field the config field, named in the error message
   * @throws IllegalArgumentException naming the field, the value found and the values allowed
   */
  public static CacheMode parse(String field, String value) {
    if (value != null) {
      String wanted = value.trim().toLowerCase(Locale.ROOT);
      for (CacheMode mode : values()) {
        if (mode.configValue.equals(wanted)) {
          return mode;
        }
      }
    }
    throw new IllegalArgumentException(
        field + " must be one of "
            + Arrays.stream(values()).map(CacheMode::configValue).collect(Collectors.joining(", "))
            + "; got '" + value + "'");
  }
}
