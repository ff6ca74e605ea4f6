package dev.javaonnxruntime.run;

/**
 * When an Execute's compute phase started and ended (nanoseconds, {@link System#nanoTime}): the
 * start of its first ONNX Runtime run and the end of its last, which the boundary reports to
 * Triton as compute_infer (so compute_input and compute_output are our own overhead). Zero start:
 * no run has started yet. Mutable, for one Execute on the instance's thread.
 */
public final class ComputeTimes {
  private long start;
  private long end;

  /** Times starting (and ending) at {@code at}, before any run. */
  public ComputeTimes(long at) {
    this.start = at;
    this.end = at;
  }

  /** Forgets the start: the next run's start is the phase's. */
  public void reset() {
    start = 0;
  }

  /** Whether no run has started since {@link #reset}. */
  public boolean unset() {
    return start == 0;
  }

  /** A run started at {@code at}: the phase's start, unless an earlier run started it. */
  public void started(long at) {
    if (start == 0) {
      start = at;
    }
  }

  /** A run ended at {@code at}: the phase's end so far. */
  public void ended(long at) {
    end = at;
  }

  /** Sets both ends of a phase in which nothing ran to {@code at}. */
  public void none(long at) {
    start = at;
    end = at;
  }

  /** The phase's start. */
  public long start() {
    return start;
  }

  /** The phase's end. */
  public long end() {
    return end;
  }
}
