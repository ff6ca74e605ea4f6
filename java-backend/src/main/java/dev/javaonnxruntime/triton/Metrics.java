package dev.javaonnxruntime.triton;

import static dev.javaonnxruntime.triton.api.global.TritonApiLib.*;

import dev.javaonnxruntime.cache.CacheStats;
import dev.javaonnxruntime.cache.InputCache;
import dev.javaonnxruntime.triton.api.TRITONSERVER_Metric;
import dev.javaonnxruntime.triton.api.TRITONSERVER_MetricFamily;
import dev.javaonnxruntime.triton.api.TRITONSERVER_Parameter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;

/**
 * Publishes the input-cache figures through Triton's custom metrics API, so they appear on
 * Triton's Prometheus endpoint next to its own: per model and device, hits, misses, bytes not
 * copied and hash time; per device, evictions, resident bytes and entries. Counters are kept in
 * Java ({@link CacheStats}) and pushed after each Execute as deltas, only those that changed,
 * through metric handles made once, which keeps JNI calls off the per-input path. Owned by the
 * backend state; thread-safe (one lock, taken once per Execute).
 */
final class Metrics implements AutoCloseable {
  private static final String[][] MODEL_FAMILIES = {
    {"java_onnxruntime_input_cache_hits_total", "Inputs served from the input cache"},
    {"java_onnxruntime_input_cache_misses_total", "Input cache lookups that found nothing"},
    {"java_onnxruntime_input_cache_bytes_saved_total", "Host-to-device bytes the input cache avoided"},
    {"java_onnxruntime_input_cache_hash_duration_us_total", "Time spent hashing inputs, microseconds"},
  };
  private static final String EVICTIONS = "java_onnxruntime_input_cache_evictions_total";
  private static final String RESIDENT = "java_onnxruntime_input_cache_resident_bytes";
  private static final String ENTRIES = "java_onnxruntime_input_cache_entries";
  private static final String NATIVE = "java_onnxruntime_javacpp_bytes";
  private static final String POINTERS = "java_onnxruntime_javacpp_pointers";
  private static final String HEAP = "java_onnxruntime_jvm_heap_used_bytes";
  private long processPublishedNanos;

  private final Map<String, TRITONSERVER_MetricFamily> families = new HashMap<>();
  private final Map<String, TRITONSERVER_Metric> metrics = new HashMap<>();
  private final Map<Integer, Series[]> deviceSeries = new HashMap<>();
  /**
   * The series of each model load's statistics on one device (a CacheStats is one load's: no
   * equals, so identity; weak, so an unloaded model's goes with it). The lookup on every Execute.
   */
  private final Map<CacheStats, Series[]> byStats = new WeakHashMap<>();
  private final List<TRITONSERVER_Metric> order = new ArrayList<>();

  Metrics() {
    for (String[] f : MODEL_FAMILIES) {
      family(f[0], f[1], TRITONSERVER_METRIC_KIND_COUNTER);
    }
    family(EVICTIONS, "Input cache entries evicted to make room", TRITONSERVER_METRIC_KIND_COUNTER);
    family(RESIDENT, "Device memory held by the input cache, bytes", TRITONSERVER_METRIC_KIND_GAUGE);
    family(ENTRIES, "Tensors held by the input cache", TRITONSERVER_METRIC_KIND_GAUGE);
    family(NATIVE, "Native memory JavaCPP tracks (deallocators registered), bytes",
        TRITONSERVER_METRIC_KIND_GAUGE);
    family(POINTERS, "Native objects JavaCPP tracks", TRITONSERVER_METRIC_KIND_GAUGE);
    family(HEAP, "JVM heap in use, bytes", TRITONSERVER_METRIC_KIND_GAUGE);
  }

  /** The backend's own memory gauges, at most every 200 ms (a leak shows as steady growth). */
  synchronized void publishProcess() {
    long now = System.nanoTime();
    if (now - processPublishedNanos < 200_000_000L) {
      return;
    }
    processPublishedNanos = now;
    Runtime rt = Runtime.getRuntime();
    set(NATIVE, org.bytedeco.javacpp.Pointer.totalBytes());
    set(POINTERS, org.bytedeco.javacpp.Pointer.totalCount());
    set(HEAP, rt.totalMemory() - rt.freeMemory());
  }

  /** Pushes what changed since the last call, for one model on one device and for the device. */
  synchronized void publish(String model, InputCache cache, CacheStats stats) {
    int device = cache.deviceId();
    Series[] perModel = byStats.get(stats);
    if (perModel == null) {
      // The first publish of this model load on this device: a (re)loaded model counts from 0
      // again, and its increases continue the metric Triton already has under these labels.
      perModel = new Series[MODEL_FAMILIES.length];
      for (int i = 0; i < perModel.length; i++) {
        perModel[i] = series(MODEL_FAMILIES[i][0], "model", model, "device", Integer.toString(device));
      }
      byStats.put(stats, perModel);
    }
    Series[] perDevice = deviceSeries.get(device);
    if (perDevice == null) {
      String label = Integer.toString(device);
      perDevice = new Series[] {
        series(EVICTIONS, "device", label), series(RESIDENT, "device", label), series(ENTRIES, "device", label)};
      deviceSeries.put(device, perDevice);
    }
    perModel[0].increment(stats.hits());
    perModel[1].increment(stats.misses());
    perModel[2].increment(stats.bytesNotCopied());
    perModel[3].increment(stats.hashNanos() / 1000.0);
    perDevice[0].increment(cache.deviceStats().evictions());
    perDevice[1].set(cache.residentBytes());
    perDevice[2].set(cache.entryCount());
  }

  /**
   * One labelled metric and the value Triton last got: a counter is pushed as the increase, a
   * gauge as the value, each only when it changed (no JNI call on an Execute that changed
   * nothing). Guarded by the Metrics lock.
   */
  private static final class Series {
    final TRITONSERVER_Metric metric;
    double published;

    Series(TRITONSERVER_Metric metric) {
      this.metric = metric;
    }

    void increment(double total) {
      double delta = total - published;
      if (delta > 0) {
        Errors.check(TRITONSERVER_MetricIncrement(metric, delta), "TRITONSERVER_MetricIncrement");
        published = total;
      }
    }

    void set(double value) {
      if (value != published) {
        Errors.check(TRITONSERVER_MetricSet(metric, value), "TRITONSERVER_MetricSet");
        published = value;
      }
    }
  }

  private Series series(String family, String... labels) {
    return new Series(metric(family, id(family, labels), labels));
  }

  private void set(String family, double value, String... labels) {
    String id = id(family, labels);
    Errors.check(TRITONSERVER_MetricSet(metric(family, id, labels), value), "TRITONSERVER_MetricSet");
  }

  private static String id(String family, String... labels) {
    return family + String.join(",", labels);
  }

  private TRITONSERVER_Metric metric(String family, String id, String... labels) {
    TRITONSERVER_Metric m = metrics.get(id);
    if (m != null) {
      return m;
    }
    long address;
    try (PointerScope scope = new PointerScope()) {
      PointerPointer<TRITONSERVER_Parameter> params = new PointerPointer<>(labels.length / 2);
      for (int i = 0; i < labels.length; i += 2) {
        params.put(i / 2, TRITONSERVER_ParameterNew(labels[i], TRITONSERVER_PARAMETER_STRING,
            new org.bytedeco.javacpp.BytePointer(labels[i + 1])));
      }
      PointerPointer<TRITONSERVER_Metric> out = new PointerPointer<>(1);
      try {
        Errors.check(TRITONSERVER_MetricNew(out, families.get(family), params, labels.length / 2),
            "TRITONSERVER_MetricNew");
      } finally {
        for (int i = 0; i < labels.length / 2; i++) {
          TRITONSERVER_ParameterDelete(new TRITONSERVER_Parameter(params.get(i)));
        }
      }
      address = out.get(0).address();
    }
    // Wrapped outside the scope, which would otherwise release the wrapper with it.
    m = new TRITONSERVER_Metric(Handles.at(address));
    metrics.put(id, m);
    order.add(m);
    return m;
  }

  private void family(String name, String description, int kind) {
    long address;
    try (PointerScope scope = new PointerScope()) {
      PointerPointer<TRITONSERVER_MetricFamily> out = new PointerPointer<>(1);
      Errors.check(TRITONSERVER_MetricFamilyNew(out, kind, new org.bytedeco.javacpp.BytePointer(name),
          new org.bytedeco.javacpp.BytePointer(description)), "TRITONSERVER_MetricFamilyNew");
      address = out.get(0).address();
    }
    families.put(name, new TRITONSERVER_MetricFamily(Handles.at(address)));
  }

  /** Deletes every metric, then every family (Triton refuses the other order). */
  @Override
  public synchronized void close() {
    for (TRITONSERVER_Metric m : order) {
      Log.errorIfFailed(TRITONSERVER_MetricDelete(m), "TRITONSERVER_MetricDelete");
    }
    order.clear();
    metrics.clear();
    deviceSeries.clear();
    byStats.clear();
    for (TRITONSERVER_MetricFamily f : families.values()) {
      Log.errorIfFailed(TRITONSERVER_MetricFamilyDelete(f), "TRITONSERVER_MetricFamilyDelete");
    }
    families.clear();
  }
}
