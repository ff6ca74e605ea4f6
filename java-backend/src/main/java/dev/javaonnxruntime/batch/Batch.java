package dev.javaonnxruntime.batch;

import dev.javaonnxruntime.config.ModelConfig;
import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.read.RequestData;
import dev.javaonnxruntime.resolve.ResolvedRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * One run's worth of requests: resolved requests whose inputs agree in every non-batch dimension,
 * concatenated along dimension 0 ({@link BatchLayout}), the shape of each input of the whole
 * batch (config order), and the outputs some request of it asked for or named a key to keep.
 * Immutable once made (its requests' outcomes stay theirs); lives for one Execute.
 *
 * @param requests the requests, in the order their rows are concatenated
 * @param layout where each request's rows sit
 * @param shapes each input's shape for the whole batch, in config order
 * @param outputs the outputs to compute, in config order (empty: nothing to run)
 */
public record Batch(List<ResolvedRequest> requests, BatchLayout layout, List<long[]> shapes,
    List<String> outputs) {

  /** The batch of {@code group} for the model of {@code config}. */
  public static Batch of(List<ResolvedRequest> group, ModelConfig config) {
    long[] rows = new long[group.size()];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = group.get(i).rows();
    }
    BatchLayout layout = new BatchLayout(rows);
    List<long[]> shapes = new ArrayList<>();
    for (TensorConfig c : config.inputs()) {
      long[] shape = group.get(0).source(c.name()).shape().clone();
      if (config.batched()) {
        shape[0] = layout.totalRows();
      }
      shapes.add(shape);
    }
    List<String> outputs = new ArrayList<>();
    for (TensorConfig o : config.outputs()) {
      if (wanted(group, o.name())) {
        outputs.add(o.name());
      }
    }
    return new Batch(List.copyOf(group), layout, shapes, outputs);
  }

  /** Whether a request of the batch asked for output {@code name} or named a key to keep it. */
  private static boolean wanted(List<ResolvedRequest> group, String name) {
    for (ResolvedRequest r : group) {
      RequestData request = r.request();
      if (request.requestedOutputs.contains(name) || request.outputKeys().containsKey(name)) {
        return true;
      }
    }
    return false;
  }

  /** Whether no request of the batch names an output to keep on the device. */
  public boolean keepsNothing() {
    for (ResolvedRequest r : requests) {
      if (!r.request().outputKeys().isEmpty()) {
        return false;
      }
    }
    return true;
  }

  /** The number of requests. */
  public int size() {
    return requests.size();
  }

  /** The batch of request {@code i} alone (a batch ONNX Runtime refused runs again this way). */
  public Batch alone(int i, ModelConfig config) {
    return of(List.of(requests.get(i)), config);
  }

  /** The total rows: the batch dimension of every input. */
  public long totalRows() {
    return layout.totalRows();
  }

  /** The key of its input shapes ({@link GraphPlan#shapeKey}). */
  public String shapeKey() {
    return GraphPlan.shapeKey(shapes);
  }
}
