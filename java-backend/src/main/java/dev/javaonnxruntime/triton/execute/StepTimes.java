package dev.javaonnxruntime.triton.execute;

import dev.javaonnxruntime.triton.Log;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Diagnostic (system property {@code java_onnxruntime.step-times=N}): where an instance's Execute
 * time goes, step by step, as the mean over every N Executes, logged at INFO. It is the request
 * path's profile where no profiler runs (the GPU machine has no perf), and it names what Triton's four figures cannot: the time between two Executes of the
 * instance (Triton's queue figure ends at our first timestamp), and the tail of an Execute after
 * its responses went (in no figure of Triton's). Beside the means, the line gives the spread of
 * the steps before the first run (enter to bind, the Execute's compute_input) over the N Executes,
 * and their mean after the shorter and the longer half of the idle gaps before them: a path that
 * runs slower on a core that has slept shows it there, a path that meets another thread's lock
 * shows it in the spread. Off by default: each mark is then one test of a final field. One per
 * instance, used only on its thread.
 */
final class StepTimes {
  private static final int EVERY = Integer.getInteger("java_onnxruntime.step-times", 0);

  /** The steps, in the order an Execute passes them; each lasts from the mark before it. */
  enum Step {
    /** From the shim's entry point to the Execute's first line: the call into the JVM. */
    ENTER,
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
  private final int every;
  /** The clock of the marks, in ns: System.nanoTime, or a test's own. */
  private final LongSupplier clock;
  private final Consumer<String> log;
  private final long[] sums = new long[STEPS.length];
  /** Per Execute of this line: the idle gap before it (-1: none, the first) and enter to bind. */
  private final long[] gaps;
  private final long[] beforeRun;
  private long between;
  private long last;
  private long ended;
  private int executes;
  private long requests;

  StepTimes(String model) {
    this(model, EVERY, System::nanoTime, Log::info);
  }

  StepTimes(String model, int every, LongSupplier clock, Consumer<String> log) {
    this.model = model;
    this.every = every;
    this.clock = clock;
    this.log = log;
    gaps = new long[Math.max(every, 0)];
    beforeRun = new long[Math.max(every, 0)];
  }

  /** An Execute of {@code count} requests starts at {@code now}. */
  void start(long now, int count) {
    if (every > 0) {
      long gap = ended == 0 ? -1 : now - ended;
      between += Math.max(gap, 0);
      gaps[executes] = gap;
      beforeRun[executes] = 0;
      last = now;
      requests += count;
    }
  }

  /** Step {@code step} ends now. */
  void mark(Step step) {
    if (every > 0) {
      long now = clock.getAsLong();
      add(step, now - last);
      last = now;
    }
  }

  /** Binding ended at {@code runStart} and inference at {@code runEnd} (no run: both now). */
  void compute(long runStart, long runEnd) {
    if (every > 0 && runStart >= last && runEnd >= runStart) {
      add(Step.BIND, runStart - last);
      add(Step.INFER, runEnd - runStart);
      last = runEnd;
    }
  }

  private void add(Step step, long nanos) {
    sums[step.ordinal()] += nanos;
    if (step.ordinal() <= Step.BIND.ordinal()) {
      beforeRun[executes] += nanos;
    }
  }

  /** The Execute ends: the last step's mark, and every {@code every} Executes the log line. */
  void end() {
    if (every <= 0) {
      return;
    }
    mark(Step.SETTLE);
    ended = last;
    if (++executes < every) {
      return;
    }
    StringBuilder line = new StringBuilder("step times: model '").append(model)
        .append("', mean us per Execute over ").append(executes).append(" Executes of ")
        .append(requests).append(" requests:");
    for (Step s : STEPS) {
      line.append(' ').append(s.name().toLowerCase(Locale.ROOT)).append(' ')
          .append(micros(sums[s.ordinal()] / (double) executes));
    }
    line.append("; between Executes ").append(micros(between / (double) executes));
    spread(line);
    log.accept(line.toString());
    Arrays.fill(sums, 0);
    between = 0;
    executes = 0;
    requests = 0;
  }

  /**
   * Enter to bind per Execute: p10, p50 and p90, then the mean after the shorter and after the
   * longer half of the gaps before them (the first Execute, with no gap, in neither half).
   */
  private void spread(StringBuilder line) {
    long[] sorted = Arrays.copyOf(beforeRun, executes);
    Arrays.sort(sorted);
    line.append("; enter to bind p10 ").append(micros(rank(sorted, 10)))
        .append(" p50 ").append(micros(rank(sorted, 50)))
        .append(" p90 ").append(micros(rank(sorted, 90)));
    Integer[] byGap = new Integer[executes];
    int n = 0;
    for (int i = 0; i < executes; i++) {
      if (gaps[i] >= 0) {
        byGap[n++] = i;
      }
    }
    if (n < 2) {
      return;
    }
    Arrays.sort(byGap, 0, n, (a, b) -> Long.compare(gaps[a], gaps[b]));
    int half = n / 2;
    line.append("; after the shorter half of the gaps (up to ")
        .append(micros(gaps[byGap[half - 1]])).append(") ")
        .append(micros(mean(byGap, 0, half))).append(", after the longer ")
        .append(micros(mean(byGap, n - half, n)));
  }

  private double mean(Integer[] order, int from, int to) {
    long sum = 0;
    for (int i = from; i < to; i++) {
      sum += beforeRun[order[i]];
    }
    return sum / (double) (to - from);
  }

  /** The nearest-rank percentile {@code p} of {@code sorted} (not empty). */
  private static long rank(long[] sorted, int p) {
    int k = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(k, 1) - 1];
  }

  private static String micros(double nanos) {
    return String.format(Locale.ROOT, "%.1f", nanos / 1e3);
  }
}
