package dev.javaonnxruntime.batch;

import dev.javaonnxruntime.config.ModelConfig;
import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.resolve.ResolvedRequest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The batch step's grouping: the resolved requests of an Execute whose inputs agree in every
 * non-batch dimension, up to max_batch_size rows each, in the order they came. Stateless apart
 * from the config; used on the instance's thread.
 */
public final class Batcher {
  private final ModelConfig config;

  /** Groups requests for the model of {@code config}. */
  public Batcher(ModelConfig config) {
    this.config = config;
  }

  /** The batches of {@code requests}. */
  public List<Batch> group(List<ResolvedRequest> requests) {
    if (requests.size() <= 1) { // the common case without dynamic batching: nothing to compare
      return requests.isEmpty() ? List.of() : List.of(Batch.of(requests, config));
    }
    Map<String, List<List<ResolvedRequest>>> groups = new LinkedHashMap<>();
    for (ResolvedRequest r : requests) {
      StringBuilder key = new StringBuilder();
      for (TensorConfig c : config.inputs()) {
        long[] shape = r.source(c.name()).shape();
        key.append(Arrays.toString(config.batched() ? Arrays.copyOfRange(shape, 1, shape.length) : shape));
      }
      List<List<ResolvedRequest>> list = groups.computeIfAbsent(key.toString(), k -> new ArrayList<>());
      List<ResolvedRequest> last = list.isEmpty() ? null : list.get(list.size() - 1);
      long rows = 0;
      for (ResolvedRequest x : last == null ? List.<ResolvedRequest>of() : last) {
        rows += x.rows();
      }
      if (last == null || !config.batched() || rows + r.rows() > config.maxBatchSize()) {
        last = new ArrayList<>();
        list.add(last);
      }
      last.add(r);
    }
    List<Batch> all = new ArrayList<>();
    for (List<List<ResolvedRequest>> list : groups.values()) {
      list.forEach(group -> all.add(Batch.of(group, config)));
    }
    return all;
  }
}
