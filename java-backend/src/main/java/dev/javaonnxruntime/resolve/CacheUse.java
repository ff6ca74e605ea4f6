package dev.javaonnxruntime.resolve;

import dev.javaonnxruntime.cache.AutoHashPolicy;
import dev.javaonnxruntime.cache.CacheStats;
import dev.javaonnxruntime.config.CacheMode;
import dev.javaonnxruntime.config.CacheSettings;
import dev.javaonnxruntime.config.ModelConfig;
import dev.javaonnxruntime.config.TensorConfig;
import java.util.HashMap;
import java.util.Map;

/**
 * One instance's use of its device's input cache: the counters its lookups and stores bump (what
 * its {@code triton.InstanceMetrics} pushes to Triton) and, per input in {@code auto} mode, the decision
 * whether hashing pays, learned from this instance's own lookups. Made at the instance's load,
 * used only on its thread, so nothing here is shared or locked.
 *
 * @param stats this instance's cache counters
 * @param policies the hashing decision of each input whose mode is {@code auto}
 */
public record CacheUse(CacheStats stats, Map<String, AutoHashPolicy> policies) {
  /** Fresh counters and decisions for a new instance of the model of {@code config}. */
  public static CacheUse of(ModelConfig config, CacheSettings cache) {
    Map<String, AutoHashPolicy> policies = new HashMap<>();
    for (TensorConfig c : config.inputs()) {
      if (cache.mode(c.name()) == CacheMode.AUTO) {
        policies.put(c.name(), new AutoHashPolicy());
      }
    }
    return new CacheUse(new CacheStats(), Map.copyOf(policies));
  }

  /** The {@code auto} mode's hashing decision for one input of the model. */
  public AutoHashPolicy autoPolicy(String input) {
    return policies.get(input);
  }
}
