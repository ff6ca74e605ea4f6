package dev.javaonnxruntime.lifecycle;

/**
 * The log of the code behind the Triton boundary (the steps of the request path): lines go to the
 * sink the boundary installs at backend start ({@code triton.Log}, which writes through Triton's
 * log API, so they land where the server's own logs do), and to standard error before that (unit
 * tests). Thread-safe: the sink is published through a volatile field.
 */
public final class Log {
  /** A line's level, as Triton's log knows them. */
  public enum Level {
    ERROR, WARN, INFO, VERBOSE
  }

  /** Where lines go. */
  @FunctionalInterface
  public interface Sink {
    void write(Level level, String message);
  }

  private static volatile Sink sink = (level, message) -> System.err.println(level + " " + message);

  private Log() {}

  /** Sends every later line to {@code to}. */
  public static void install(Sink to) {
    sink = to;
  }

  /** At INFO level. */
  public static void info(String message) {
    sink.write(Level.INFO, message);
  }

  /** At WARN level. */
  public static void warn(String message) {
    sink.write(Level.WARN, message);
  }

  /** At ERROR level. */
  public static void error(String message) {
    sink.write(Level.ERROR, message);
  }

  /** At VERBOSE level (shown with tritonserver --log-verbose). */
  public static void verbose(String message) {
    sink.write(Level.VERBOSE, message);
  }
}
