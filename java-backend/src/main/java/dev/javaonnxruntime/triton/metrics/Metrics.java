package dev.javaonnxruntime.triton.metrics;

import static dev.javaonnxruntime.triton.api.global.TritonApiLib.*;

import dev.javaonnxruntime.cache.CacheStats;
import dev.javaonnxruntime.cache.InputCache;
import dev.javaonnxruntime.triton.Errors;
import dev.javaonnxruntime.triton.Handles;
import dev.javaonnxruntime.triton.Log;
import dev.javaonnxruntime.triton.api.TRITONSERVER_Metric;
import dev.javaonnxruntime.triton.api.TRITONSERVER_MetricFamily;
import dev.javaonnxruntime.triton.api.TRITONSERVER_Parameter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;

/**
 * The backend's metric families and handles in Triton's custom metrics API, so the input-cache
 * figures appear on Triton's Prometheus endpoint next to its own: per model and device, hits,
 * misses, bytes not copied and hash time; per device, evictions, resident bytes and entries; the
 * process's JavaCPP and heap gauges. Handles are made while models and instances load (under this
 * object's lock, never taken on the execute path); each instance counts its own figures and pushes
 * them at the end of its Executes through an {@link InstanceMetrics}, without a lock. Owned by the
 * backend state, closed at its finalize.
 */
public final class Metrics implements AutoCloseable {
  /** Per model and device: hits, misses, bytes not copied, hash time (InstanceMetrics' order). */
  static final String[][] MODEL_FAMILIES = {
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
  /** The process gauges are set at most this often (a leak shows as steady growth). */
  private static final long PROCESS_PERIOD_NANOS = 200_000_000L;

  private final Map<String, TRITONSERVER_MetricFamily> families = new HashMap<>();
  private final Map<String, TRITONSERVER_Metric> metrics = new HashMap<>();
  private final Map<Integer, InstanceMetrics.DeviceSeries> deviceSeries = new HashMap<>();
  private final List<TRITONSERVER_Metric> order = new ArrayList<>();
  private final TRITONSERVER_Metric nativeBytes;
  private final TRITONSERVER_Metric pointers;
  private final TRITONSERVER_Metric heap;
  /** When the process gauges were last set; the instance that moves it sets them. */
  private final AtomicLong processPublished = new AtomicLong(System.nanoTime() - PROCESS_PERIOD_NANOS);

  /** Registers the backend's metric families with Triton. */
  public Metrics() {
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
    nativeBytes = metric(NATIVE);
    pointers = metric(POINTERS);
    heap = metric(HEAP);
  }

  /**
   * The metrics of a new instance (at its load): of the model on the cache's device, with {@code
   * stats} its own counters, or only the process gauges when {@code cache} is null. A reloaded
   * model's instances count from 0 again, and their increases continue the series Triton already
   * has under these labels.
   */
  public synchronized InstanceMetrics forInstance(String model, InputCache cache, CacheStats stats) {
    if (cache == null) {
      return new InstanceMetrics(this, null, null, null, null);
    }
    String device = Integer.toString(cache.deviceId());
    TRITONSERVER_Metric[] perModel = new TRITONSERVER_Metric[MODEL_FAMILIES.length];
    for (int i = 0; i < perModel.length; i++) {
      perModel[i] = metric(MODEL_FAMILIES[i][0], "model", model, "device", device);
    }
    InstanceMetrics.DeviceSeries perDevice = deviceSeries.computeIfAbsent(cache.deviceId(),
        d -> new InstanceMetrics.DeviceSeries(metric(EVICTIONS, "device", device),
            metric(RESIDENT, "device", device), metric(ENTRIES, "device", device)));
    return new InstanceMetrics(this, cache, stats, perModel, perDevice);
  }

  /**
   * The backend's own memory gauges, at most every 200 ms, by whichever instance's Execute ends
   * first after that (a compare-and-set elects it; the others return at once).
   */
  void publishProcess() {
    long now = System.nanoTime();
    long last = processPublished.get();
    if (now - last < PROCESS_PERIOD_NANOS || !processPublished.compareAndSet(last, now)) {
      return;
    }
    Runtime rt = Runtime.getRuntime();
    set(nativeBytes, Pointer.totalBytes());
    set(pointers, Pointer.totalCount());
    set(heap, rt.totalMemory() - rt.freeMemory());
  }

  private static void set(TRITONSERVER_Metric metric, double value) {
    Errors.check(TRITONSERVER_MetricSet(metric, value), "TRITONSERVER_MetricSet");
  }

  private static String id(String family, String... labels) {
    return family + String.join(",", labels);
  }

  /** The one handle of a family's series with these labels, made on first use. */
  private TRITONSERVER_Metric metric(String family, String... labels) {
    String id = id(family, labels);
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
    for (TRITONSERVER_MetricFamily f : families.values()) {
      Log.errorIfFailed(TRITONSERVER_MetricFamilyDelete(f), "TRITONSERVER_MetricFamilyDelete");
    }
    families.clear();
  }
}
