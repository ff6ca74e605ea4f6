package dev.javaonnxruntime.triton.metrics;

import static dev.javaonnxruntime.triton.api.global.TritonApiLib.TRITONSERVER_MetricIncrement;

import dev.javaonnxruntime.cache.CacheStats;
import dev.javaonnxruntime.cache.InputCache;
import dev.javaonnxruntime.triton.Errors;
import dev.javaonnxruntime.triton.api.TRITONSERVER_Metric;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One instance's metrics: its cache figures, counted in its own {@link CacheStats} (written by its
 * stager on its thread only), pushed to Triton at the end of each of its Executes, before the
 * responses go, so a client that has its answer sees figures that include it. Made at the
 * instance's load by {@link Metrics#forInstance}; used only on the instance's thread.
 *
 * <p>No lock on the way. A model's series on a device is one Triton counter for all the model's
 * instances there: each pushes the increase of its own counters since its last push, and {@code
 * TRITONSERVER_MetricIncrement} adds atomically (Triton's counter is prometheus-cpp's atomic
 * double; no lock in Triton's call either). The device's series are shared by every instance on
 * the device ({@link DeviceSeries}). A push costs one JNI call per figure that changed, none when
 * nothing did. Triton has no callback when its endpoint is read, so the alternative, a thread
 * pushing every few milliseconds, would cost a thread and make every figure late.
 */
public final class InstanceMetrics {
  private final Metrics metrics;
  private final InputCache cache;
  private final CacheStats stats;
  /** Hits, misses, bytes not copied, hash time ({@link Metrics#MODEL_FAMILIES}' order). */
  private final TRITONSERVER_Metric[] perModel;
  private final double[] published;
  private final DeviceSeries device;

  InstanceMetrics(Metrics metrics, InputCache cache, CacheStats stats,
      TRITONSERVER_Metric[] perModel, DeviceSeries device) {
    this.metrics = metrics;
    this.cache = cache;
    this.stats = stats;
    this.perModel = perModel;
    this.published = perModel == null ? null : new double[perModel.length];
    this.device = device;
  }

  /** Pushes the process gauges if due, then what changed since this instance's last push. */
  public void publish() {
    metrics.publishProcess();
    if (stats != null) {
      push(0, stats.hits());
      push(1, stats.misses());
      push(2, stats.bytesNotCopied());
      push(3, stats.hashNanos() / 1000.0);
      device.publish(cache);
    }
  }

  private void push(int i, double total) {
    double delta = total - published[i];
    if (delta > 0) {
      increment(perModel[i], delta);
      published[i] = total;
    }
  }

  private static void increment(TRITONSERVER_Metric metric, double delta) {
    Errors.check(TRITONSERVER_MetricIncrement(metric, delta), "TRITONSERVER_MetricIncrement");
  }

  /**
   * A device's series, shared by the instances on it: evictions (a counter), resident bytes and
   * entries (gauges). Each holds the figure Triton has been given; an instance swaps in the
   * figure it read and pushes the difference, so every change reaches Triton once whichever
   * instances race (the gauges move by increments too, which add in any order). A figure read
   * just before another instance's newer one can land last; the device's next push corrects it.
   */
  static final class DeviceSeries {
    private final TRITONSERVER_Metric evictions;
    private final TRITONSERVER_Metric resident;
    private final TRITONSERVER_Metric entries;
    private final AtomicLong evictionsGiven = new AtomicLong();
    private final AtomicLong residentGiven = new AtomicLong();
    private final AtomicLong entriesGiven = new AtomicLong();

    DeviceSeries(TRITONSERVER_Metric evictions, TRITONSERVER_Metric resident,
        TRITONSERVER_Metric entries) {
      this.evictions = evictions;
      this.resident = resident;
      this.entries = entries;
    }

    void publish(InputCache cache) {
      long total = cache.deviceStats().evictions();
      long before = evictionsGiven.getAndAccumulate(total, Math::max); // a counter never falls
      if (total > before) {
        increment(evictions, total - before);
      }
      move(resident, residentGiven, cache.residentBytes());
      move(entries, entriesGiven, cache.entryCount());
    }

    private static void move(TRITONSERVER_Metric gauge, AtomicLong given, long value) {
      long before = given.getAndSet(value);
      if (before != value) {
        increment(gauge, value - before);
      }
    }
  }
}
