package dev.javaonnxruntime.triton;

import static dev.javaonnxruntime.triton.Errors.asTriton;

import dev.javaonnxruntime.batch.BatchLayout;
import dev.javaonnxruntime.batch.GraphPlan;
import dev.javaonnxruntime.config.ModelConfig;
import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.lifecycle.Closer;
import dev.javaonnxruntime.lifecycle.Faults;
import dev.javaonnxruntime.onnx.InputTensor;
import dev.javaonnxruntime.onnx.ModelSession;
import dev.javaonnxruntime.onnx.OrtFailure;
import dev.javaonnxruntime.onnx.OutputTensor;
import dev.javaonnxruntime.run.GraphPath;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The batch steps of an Execute: groups the resolved requests into batches, runs each batch
 * (a CUDA graph replay where the instance has one for its shape, else eagerly with the inputs
 * bound where they are) and scatters its outputs back to the requests. A batch ONNX Runtime
 * refuses runs again request by request, so one bad request costs only itself. Used only on the
 * instance's thread, by its {@link Executor}.
 */
final class BatchRunner {
  private final String modelName;
  private final ModelConfig config;
  private final ModelSession session;
  private final Stream stream;
  private final InputStager stager;
  private final OutputWriter writer;
  /** The CUDA-graph path (config.pbtxt cuda_graph "on"), or null. */
  private final GraphPath graphs;
  /**
   * Graph shapes to learn once the Execute's scope has closed (see {@link #learn}), by shape: a
   * second batch of a shape in the same Execute has run eagerly and learns nothing more.
   */
  private final Map<String, Runnable> toLearn = new LinkedHashMap<>();

  BatchRunner(String modelName, ModelConfig config, ModelSession session, Stream stream,
      InputStager stager, OutputWriter writer, GraphPath graphs) {
    this.modelName = modelName;
    this.config = config;
    this.session = session;
    this.stream = stream;
    this.stager = stager;
    this.writer = writer;
    this.graphs = graphs;
  }

  /** Requests that agree in every input's non-batch dims, up to max_batch_size rows each. */
  List<List<RequestData>> group(List<RequestData> requests) {
    if (requests.size() <= 1) { // the common case without dynamic batching: nothing to compare
      return requests.isEmpty() ? List.of() : List.of(requests);
    }
    Map<String, List<List<RequestData>>> groups = new LinkedHashMap<>();
    for (RequestData r : requests) {
      StringBuilder key = new StringBuilder();
      for (TensorConfig c : config.inputs()) {
        long[] shape = r.sources.get(c.name()).shape();
        key.append(Arrays.toString(config.batched() ? Arrays.copyOfRange(shape, 1, shape.length) : shape));
      }
      List<List<RequestData>> list = groups.computeIfAbsent(key.toString(), k -> new ArrayList<>());
      List<RequestData> last = list.isEmpty() ? null : list.get(list.size() - 1);
      long rows = 0;
      for (RequestData x : last == null ? List.<RequestData>of() : last) {
        rows += x.batch;
      }
      if (last == null || !config.batched() || rows + r.batch > config.maxBatchSize()) {
        last = new ArrayList<>();
        list.add(last);
      }
      last.add(r);
    }
    List<List<RequestData>> all = new ArrayList<>();
    groups.values().forEach(all::addAll);
    return all;
  }

  /** Runs one batch; a failure fails its requests (each alone, where ORT refused the batch). */
  void run(List<RequestData> group, OwnedRequests owned) {
    try {
      runGroup(group, owned);
    } catch (Exception e) {
      if (group.size() == 1 || !(e instanceof OrtFailure)) {
        TritonException failure = asTriton(e);
        group.forEach(r -> r.fail(failure));
        return;
      }
      // ONNX Runtime refused the batch before any output was written: one bad request (a token
      // id out of range, say) must not cost the others of its batch, so each runs again alone
      // and only those that fail alone get the error.
      Log.verbose("model '" + modelName + "': ONNX Runtime refused a batch of " + group.size()
          + " requests; running each alone");
      for (RequestData r : group) {
        try {
          runGroup(List.of(r), owned);
        } catch (Exception alone) {
          r.fail(asTriton(alone));
        }
      }
    }
  }

  /**
   * Runs one batch: replays its CUDA graph when the instance has one for its shape (inputs
   * copied into the graph's fixed buffers), else runs eagerly with the inputs bound where they
   * are. {@code owned} gets the start of the first ORT Run and the end of the last: Triton's
   * compute_infer is ORT alone, so compute_input and compute_output are our overhead (binding
   * the tensors counts as input, reading the results as output).
   */
  private void runGroup(List<RequestData> group, OwnedRequests owned) throws Exception {
    long[] rows = new long[group.size()];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = group.get(i).batch;
    }
    BatchLayout layout = new BatchLayout(rows);
    List<long[]> shapes = new ArrayList<>();
    for (TensorConfig c : config.inputs()) {
      long[] shape = group.get(0).sources.get(c.name()).shape().clone();
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
    if (outputs.isEmpty()) {
      return;
    }
    String key = graphs == null ? null : GraphPlan.shapeKey(shapes);
    GraphPlan.Decision d = graphs == null ? null : graphs.decide(layout.totalRows(), key);
    if (d != null && (d.step() == GraphPlan.Step.CAPTURE || d.step() == GraphPlan.Step.REPLAY)) {
      for (int i = 0; i < config.inputs().size(); i++) {
        stager.fill(group, config.inputs().get(i), graphs.inputAddress(key, i));
      }
      if (owned.computeStart == 0) {
        owned.computeStart = System.nanoTime();
      }
      List<OutputTensor> results = graphs.run(key, d);
      if (results != null) {
        owned.computeEnd = computeEnd(System.nanoTime());
        Faults.at("execute.scatter");
        writer.scatter(group, layout, results);
        if (d.step() == GraphPlan.Step.CAPTURE) {
          graphs.verify(key, stream);
        }
        return;
      }
      // The graph failed (logged): this batch, and its shape from now on, run eagerly.
    }
    List<InputTensor> inputs = new ArrayList<>();
    for (int i = 0; i < config.inputs().size(); i++) {
      inputs.add(stager.prepare(group, config.inputs().get(i), shapes.get(i)));
    }
    // Learning a shape for its graph needs every output's shape: bind them all this once.
    boolean learn = d != null && d.step() == GraphPlan.Step.LEARN;
    List<String> bound = learn ? config.outputs().stream().map(TensorConfig::name).toList() : outputs;
    List<OutputTensor> shown = new ArrayList<>();
    session.run(inputs, bound, results -> {
      // compute_infer is ORT's Run alone: binding is input work, reading results output work.
      if (owned.computeStart == 0) {
        owned.computeStart = session.runStartNanos();
      }
      owned.computeEnd = computeEnd(session.runEndNanos());
      if (learn) {
        shown.addAll(results); // records: their shapes outlive the run, their addresses do not
      }
      Faults.at("execute.scatter");
      writer.scatter(group, layout, results);
    });
    if (learn) {
      // After the Execute's PointerScope, which would release the graph's binding with it.
      toLearn.putIfAbsent(key, () -> graphs.learn(key, inputs, shown));
    }
  }

  /**
   * When the run's compute ended: on the CPU when ORT returned ({@code returned}); on a GPU, where
   * ORT (and a graph launch) returns once the kernels are enqueued on the instance stream, when
   * the stream has done them, so that Triton's compute_infer holds the GPU's time and
   * compute_output only the copies back. It costs one stream synchronisation per batch before
   * the output copies are enqueued.
   */
  private long computeEnd(long returned) {
    if (!session.target().gpu()) {
      return returned;
    }
    stream.synchronize();
    return System.nanoTime();
  }

  /** Whether a request of the batch asked for output {@code name} or named a key to keep it. */
  private static boolean wanted(List<RequestData> group, String name) {
    for (RequestData r : group) {
      if (r.requestedOutputs.contains(name) || r.outputKeys.containsKey(name)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Makes the graphs the Execute's runs learned, each a step of {@code cleanup}: after the
   * Execute's PointerScope has closed (a graph's binding must outlive it) and inside the device's
   * capture gate (it allocates on the device).
   */
  void learn(Closer cleanup) {
    for (Runnable learn : toLearn.values()) {
      cleanup.run("learn", learn::run);
    }
    toLearn.clear();
  }
}
