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
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;

/**
 * Publishes the input-cache figures through Triton's custom metrics API, so they appear on
 * Triton's Prometheus endpoint next to its own: per model and device, hits, misses, bytes not
 * copied and hash time; per device, evictions, resident bytes and entries. Counters are kept in
 * Java ({@link CacheStats}) and pushed as deltas after each Execute, which keeps JNI calls off
 * the per-input path. Owned by the backend state; thread-safe (one lock, taken once per Execute).
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
  private final Map<String, Double> published = new HashMap<>();
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
    String device = Integer.toString(cache.deviceId());
    double[] values = {stats.hits(), stats.misses(), stats.bytesNotCopied(), stats.hashNanos() / 1000.0};
    for (int i = 0; i < MODEL_FAMILIES.length; i++) {
      increment(MODEL_FAMILIES[i][0], values[i], "model", model, "device", device);
    }
    increment(EVICTIONS, cache.deviceStats().evictions(), "device", device);
    set(RESIDENT, cache.residentBytes(), "device", device);
    set(ENTRIES, cache.entryCount(), "device", device);
  }

  private void increment(String family, double total, String... labels) {
    String id = id(family, labels);
    double delta = total - published.getOrDefault(id, 0.0);
    if (delta > 0) {
      Errors.check(TRITONSERVER_MetricIncrement(metric(family, id, labels), delta), "TRITONSERVER_MetricIncrement");
      published.put(id, total);
    } else {
      metric(family, id, labels);
    }
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
    for (TRITONSERVER_MetricFamily f : families.values()) {
      Log.errorIfFailed(TRITONSERVER_MetricFamilyDelete(f), "TRITONSERVER_MetricFamilyDelete");
    }
    families.clear();
  }
}
