package dev.javaonnxruntime.triton;

import static dev.javaonnxruntime.triton.api.global.TritonApiLib.*;

import dev.javaonnxruntime.batch.BatchLayout;
import dev.javaonnxruntime.batch.GraphPlan;
import dev.javaonnxruntime.config.ModelConfig;
import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.cuda.CaptureGate;
import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.onnx.InputTensor;
import dev.javaonnxruntime.onnx.ModelSession;
import dev.javaonnxruntime.onnx.OrtFailure;
import dev.javaonnxruntime.onnx.OutputTensor;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_ModelInstance;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_Request;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * Serves the requests of one {@code TRITONBACKEND_ModelInstanceExecute}: reads and checks each
 * request, groups those whose inputs agree in every non-batch dimension, runs each group once
 * (with IoBinding, or as a CUDA graph replay), writes each request's slice of every output it
 * asked for and keeps those it named, synchronises the instance stream once per batch, then sends
 * every response FINAL, reports statistics and releases every request.
 *
 * <p>Ownership (Triton's rule, as in its recommended backend): once the responses exist the
 * requests are ours; a failure from then on costs only the requests it touches, which get an
 * error response, and the call still returns success. Used only on the instance's thread.
 */
final class Executor implements AutoCloseable {
  private final ModelState model;
  private final ModelConfig config;
  private final TRITONBACKEND_ModelInstance instance;
  private final ModelSession session;
  private final Stream stream;
  private final InputStager stager;
  private final RequestChecker checker;
  private final RequestReader reader = new RequestReader();
  private final OutputWriter writer;
  /** The CUDA-graph path (config.pbtxt cuda_graph "on"), or null. */
  private final GraphPath graphs;
  /** The device's capture gate for a GPU instance (held shared during each Execute), or null. */
  private final CaptureGate gate;
  private final PointerPointer<Pointer> out = new PointerPointer<>(1);
  private final long faultEvery;
  private long executions;

  Executor(ModelState model, TRITONBACKEND_ModelInstance instance, ModelSession session,
      DeviceMemory memory, Stream stream, InputStager stager, GraphPath graphs, CaptureGate gate) {
    this.model = model;
    this.config = model.config;
    this.instance = instance;
    this.session = session;
    this.stream = stream;
    this.stager = stager;
    this.graphs = graphs;
    this.gate = gate;
    this.checker = new RequestChecker(config);
    this.faultEvery = Long.parseLong(config.parameters().getOrDefault("test_fault_execute_every", "0").trim());
    this.writer = new OutputWriter(model.name, config, memory, stream, stager, session.target().gpu());
  }

  void execute(long requestsAddress, int count) {
    if (gate == null) {
      serve(requestsAddress, count);
      return;
    }
    gate.enter();
    try {
      serve(requestsAddress, count);
    } finally {
      gate.exit();
    }
  }

  private void serve(long requestsAddress, int count) {
    long execStart = System.nanoTime();
    PointerPointer<?> array = new PointerPointer<>(Handles.at(requestsAddress)).capacity(count);
    List<RequestData> requests = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      RequestData r = new RequestData(new TRITONBACKEND_Request(array.get(i)));
      try {
        Errors.check(TRITONBACKEND_ResponseNew(out, r.request), "TRITONBACKEND_ResponseNew");
        r.response = new dev.javaonnxruntime.triton.api.TRITONBACKEND_Response(out.get(0));
      } catch (TritonException e) {
        Log.error("model '" + model.name + "': cannot create a response: " + e.getMessage());
      }
      requests.add(r);
    }
    // From here on every request is ours: nothing below may escape without answering them.
    long[] times = {execStart, execStart, execStart};
    try {
      run(requests, times);
    } catch (Throwable t) {
      TritonException e = asTriton(t);
      requests.forEach(r -> r.fail(e));
    } finally {
      finish(requests, times);
    }
  }

  private void run(List<RequestData> requests, long[] times) throws Exception {
    if (faultEvery > 0 && ++executions % faultEvery == 0) {
      // Test seam (config parameter test_fault_execute_every): an unexpected exception after
      // the responses exist must cost this batch only.
      throw new IllegalStateException("injected fault in execute " + executions);
    }
    List<RequestData> valid = new ArrayList<>();
    for (RequestData r : requests) {
      try {
        reader.readInputs(r);
        reader.readCacheKeys(r);
        reader.readRequestedOutputs(r);
        checker.check(r);
        valid.add(r);
      } catch (RuntimeException e) {
        r.fail(asTriton(e));
      }
    }
    stager.begin(valid);
    List<RequestData> resolved = new ArrayList<>();
    for (RequestData r : valid) {
      try {
        stager.resolve(r, config.inputs());
        resolved.add(r);
      } catch (Exception e) {
        r.fail(asTriton(e));
      }
    }
    times[0] = 0;
    for (List<RequestData> group : group(resolved)) {
      try {
        runGroup(group, times);
      } catch (Exception e) {
        if (group.size() == 1 || !(e instanceof OrtFailure)) {
          TritonException failure = asTriton(e);
          group.forEach(r -> r.fail(failure));
          continue;
        }
        // ONNX Runtime refused the batch before any output was written: one bad request (a
        // token id out of range, say) must not cost the others of its batch, so each runs
        // again alone and only those that fail alone get the error.
        Log.verbose("model '" + model.name + "': ONNX Runtime refused a batch of " + group.size()
            + " requests; running each alone");
        for (RequestData r : group) {
          try {
            runGroup(List.of(r), times);
          } catch (Exception alone) {
            r.fail(asTriton(alone));
          }
        }
      }
    }
    if (times[0] == 0) {
      times[0] = System.nanoTime();
      times[1] = times[0];
    }
  }

  /** Requests that agree in every input's non-batch dims, up to max_batch_size rows each. */
  private List<List<RequestData>> group(List<RequestData> requests) {
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
      long rows = last == null ? 0 : last.stream().mapToLong(x -> x.batch).sum();
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

  /**
   * Runs one batch: replays its CUDA graph when the instance has one for its shape (inputs
   * copied into the graph's fixed buffers), else runs eagerly with the inputs bound where they
   * are. {@code times} gets the start of the first ORT Run and the end of the last: Triton's
   * compute_infer is ORT alone, so compute_input and compute_output are our overhead (binding
   * the tensors counts as input, reading the results as output).
   */
  private void runGroup(List<RequestData> group, long[] times) throws Exception {
    long[] rows = group.stream().mapToLong(r -> r.batch).toArray();
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
      if (group.stream().anyMatch(r -> r.requestedOutputs.contains(o.name()) || r.outputKeys.containsKey(o.name()))) {
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
      if (times[0] == 0) {
        times[0] = System.nanoTime();
      }
      List<OutputTensor> results = graphs.run(key, d);
      if (results != null) {
        times[1] = System.nanoTime();
        writer.scatter(group, layout, results);
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
      if (times[0] == 0) {
        times[0] = session.runStartNanos();
      }
      times[1] = session.runEndNanos();
      if (learn) {
        shown.addAll(results); // records: their shapes outlive the run, their addresses do not
      }
      writer.scatter(group, layout, results);
    });
    if (learn) {
      // Outside the run's PointerScope, which would release the graph's binding with the run.
      graphs.learn(key, inputs, shown);
    }
  }

  private void finish(List<RequestData> requests, long[] times) {
    try {
      stream.synchronize();
    } catch (RuntimeException e) {
      TritonException failure = asTriton(e);
      requests.forEach(r -> r.fail(failure));
    }
    stager.finish();
    if (times[0] == 0) { // failed before any run: no compute phase
      times[0] = times[2];
      times[1] = times[2];
    }
    // Before the responses go: a client that has its answer sees the figures that include it.
    try {
      model.backend.publish(model);
    } catch (RuntimeException e) {
      Log.error("model '" + model.name + "': cannot publish cache metrics: " + e.getMessage());
    }
    long execEnd = System.nanoTime();
    long batch = 0;
    for (RequestData r : requests) {
      boolean success = writer.responder().send(r);
      if (success) {
        batch += r.batch;
      }
      report(Errors.checkQuietly(TRITONBACKEND_ModelInstanceReportStatistics(instance, r.request,
          success, times[2], times[0], times[1], execEnd)), "ReportStatistics");
      report(Errors.checkQuietly(TRITONBACKEND_RequestRelease(r.request, TRITONSERVER_REQUEST_RELEASE_ALL)),
          "RequestRelease");
    }
    report(Errors.checkQuietly(TRITONBACKEND_ModelInstanceReportBatchStatistics(instance, batch,
        times[2], times[0], times[1], execEnd)), "ReportBatchStatistics");
  }

  private void report(String error, String what) {
    if (error != null) {
      Log.error("model '" + model.name + "': " + what + " failed: " + error);
    }
  }

  static TritonException asTriton(Throwable t) {
    return t instanceof TritonException te ? te : new TritonException(Errors.codeOf(t), Errors.messageOf(t), t);
  }

  @Override
  public void close() {
    reader.close();
    writer.close();
    out.close();
  }
}
