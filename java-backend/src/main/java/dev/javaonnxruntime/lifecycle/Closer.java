package dev.javaonnxruntime.lifecycle;

/**
 * Runs the cleanup steps of one owner in order, each whatever the steps before it did: a failure
 * is kept and the next step still runs; {@link #finish} then throws the first failure with every
 * later one suppressed. So one failing close no longer leaks what the owner closes after it, and
 * no failure goes unreported.
 *
 * <p>Each step is named {@code <owner>.<element>}; after the step has run, {@link Faults#at} is
 * checked under that name, so a test can make any element of any chain fail once its work is done
 * (the caller must neither redo nor skip what follows). Not thread-safe: one owner's cleanup, on
 * one thread.
 */
public final class Closer {
  /** A cleanup step that is not a close: a stream synchronisation, an unload notice. */
  @FunctionalInterface
  public interface Step {
    /** Does the step; may throw anything. */
    void run() throws Exception;
  }

  private final String owner;
  private Throwable failure;

  /** A chain whose steps are named {@code owner + "." + element}. */
  public Closer(String owner) {
    this.owner = owner;
  }

  /** Closes {@code resource} (nothing when null); returns its failure, or null. */
  public Throwable close(String element, AutoCloseable resource) {
    return resource == null ? null : run(element, resource::close);
  }

  /** Runs {@code step}; returns its failure (kept for {@link #finish}), or null. */
  public Throwable run(String element, Step step) {
    try {
      step.run();
      Faults.at(owner, element);
      return null;
    } catch (Throwable t) {
      add(t);
      return t;
    }
  }

  /** Keeps a failure of a step run elsewhere: the first one, or suppressed by it. */
  public void add(Throwable t) {
    if (failure == null) {
      failure = t;
    } else if (failure != t) {
      failure.addSuppressed(t);
    }
  }

  /** The first failure (later ones suppressed in it), or null when every step succeeded. */
  public Throwable failure() {
    return failure;
  }

  /**
   * Throws the first failure, later ones suppressed: as it is when unchecked, wrapped in an
   * {@link IllegalStateException} naming the owner when checked. Returns when nothing failed.
   */
  public void finish() {
    if (failure instanceof RuntimeException e) {
      throw e;
    }
    if (failure instanceof Error e) {
      throw e;
    }
    if (failure != null) {
      throw new IllegalStateException(owner + " failed: " + failure, failure);
    }
  }

  /**
   * One line for a log: the first failure's message and each suppressed one's, so nothing a chain
   * reported is lost when it is logged rather than thrown.
   */
  public static String describe(Throwable t) {
    StringBuilder s = new StringBuilder(String.valueOf(t.getMessage() != null ? t.getMessage() : t));
    for (Throwable more : t.getSuppressed()) {
      s.append("; then: ").append(more.getMessage() != null ? more.getMessage() : more);
    }
    return s.toString();
  }
}
