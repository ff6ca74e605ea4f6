package dev.javaonnxruntime.config;

/**
 * A configuration that cannot be served: the message names the field, the value found and the
 * values allowed. Triton reports it as {@code INVALID_ARG} and the model does not load.
 */
public class ConfigException extends Exception {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
