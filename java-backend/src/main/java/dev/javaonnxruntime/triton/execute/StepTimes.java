package dev.javaonnxruntime.triton.execute;

import dev.javaonnxruntime.triton.Log;

/**
 * Diagnostic (system property {@code java_onnxruntime.step-times=N}): where an instance's Execute
 * time goes, step by step, as the mean over every N Executes, logged at INFO. It is the request
 * path's profile where no profiler runs (the GPU machine has no perf), and it names what Triton's four figures cannot: the time between two Executes of the
 * instance (Triton's queue figure ends at our first timestamp), and the tail of an Execute after
 * its responses went (in no figure of Triton's). Off by default: each mark is then one test of a
 * constant. One per instance, used only on its thread.
 */
final class StepTimes {
  private static final int EVERY = Integer.getInteger("java_onnxruntime.step-times", 0);

  /** The steps, in the order an Execute passes them; each lasts from the mark before it. */
  enum Step {
    /** Reading the request array, taking the requests. */
    TAKE,
    /** Reading and checking every request. */
    READ,
    /** Where each input comes from: the cache (a lookup, a hash) or the request. */
    RESOLVE,
    /**
     * Batching, gathering and binding, and before an eager run making the responses, up to the
     * first ORT run (the rest of compute_input).
     */
    BIND,
    /**
     * The ORT runs, on a GPU up to the stream's end (compute_infer); a graph's replay also covers
     * making the responses, done after the replay while its outputs' copies back run.
     */
    INFER,
    /** Outputs into the responses (compute_output, but for the metrics). */
    WRITE,
    /** The stream synchronised, the cache leases released. */
    FINISH,
    /** The backend's metrics pushed to Triton (the end of compute_output). */
    METRICS,
    /** Every response sent, every request's statistics reported and the request released. */
    ANSWER,
    /** The batch statistics, the Execute's scope closed, graphs learned, the gate left. */
    SETTLE
  }

  private static final Step[] STEPS = Step.values();
  private final String model;
  private final long[] sums = new long[STEPS.length];
  private long between;
  private long last;
  private long ended;
  private int executes;
  private long requests;

  StepTimes(String model) {
    this.model = model;
  }

  /** An Execute of {@code count} requests starts at {@code now}. */
  void start(long now, int count) {
    if (EVERY > 0) {
      between += ended == 0 ? 0 : now - ended;
      last = now;
      requests += count;
    }
  }

  /** Step {@code step} ends now. */
  void mark(Step step) {
    if (EVERY > 0) {
      long now = System.nanoTime();
      sums[step.ordinal()] += now - last;
      last = now;
    }
  }

  /** Binding ended at {@code runStart} and inference at {@code runEnd} (no run: both now). */
  void compute(long runStart, long runEnd) {
    if (EVERY > 0 && runStart >= last && runEnd >= runStart) {
      sums[Step.BIND.ordinal()] += runStart - last;
      sums[Step.INFER.ordinal()] += runEnd - runStart;
      last = runEnd;
    }
  }

  /** The Execute ends: the last step's mark, and every {@code EVERY} Executes the log line. */
  void end() {
    if (EVERY == 0) {
      return;
    }
    mark(Step.SETTLE);
    ended = last;
    if (++executes < EVERY) {
      return;
    }
    StringBuilder line = new StringBuilder("step times: model '").append(model)
        .append("', mean us per Execute over ").append(executes).append(" Executes of ")
        .append(requests).append(" requests:");
    for (Step s : STEPS) {
      line.append(' ').append(s.name().toLowerCase()).append(' ').append(micros(sums[s.ordinal()]));
    }
    line.append("; between Executes ").append(micros(between));
    Log.info(line.toString());
    java.util.Arrays.fill(sums, 0);
    between = 0;
    executes = 0;
    requests = 0;
  }

  private String micros(long nanos) {
    return String.format(java.util.Locale.ROOT, "%.1f", nanos / 1e3 / executes);
  }
}
