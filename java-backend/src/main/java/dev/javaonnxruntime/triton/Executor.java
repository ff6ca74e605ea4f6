package dev.javaonnxruntime.triton;

import static dev.javaonnxruntime.triton.api.global.TritonApiLib.*;

import dev.javaonnxruntime.batch.BatchLayout;
import dev.javaonnxruntime.batch.GraphPlan;
import dev.javaonnxruntime.config.ModelConfig;
import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.cuda.CaptureGate;
import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.lifecycle.Closer;
import dev.javaonnxruntime.lifecycle.Faults;
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
import org.bytedeco.javacpp.PointerScope;

/**
 * Serves the requests of one {@code TRITONBACKEND_ModelInstanceExecute}: reads and checks each
 * request, groups those whose inputs agree in every non-batch dimension, runs each group once
 * (with IoBinding, or as a CUDA graph replay), writes each request's slice of every output it
 * asked for and keeps those it named, synchronises the instance stream once per batch, then sends
 * every response FINAL, reports statistics and releases every request.
 *
 * <p>Ownership (Triton's rule, as in its recommended backend): once the responses exist the
 * requests are ours ({@link OwnedRequests}); a failure from then on costs only the requests it
 * touches, which get an error response, and the call still returns success. The end of every
 * Execute runs each cleanup step whatever the others did (a {@link Closer}), and its close answers
 * every request still unanswered and releases every one still unreleased. Native objects made
 * during an Execute belong to a {@code PointerScope} that ends with it. Used only on the
 * instance's thread.
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
  /**
   * Graph shapes to learn once the Execute's scope has closed (see {@link #end}), by shape: a
   * second batch of a shape in the same Execute has run eagerly and learns nothing more.
   */
  private final Map<String, Runnable> toLearn = new LinkedHashMap<>();
  private final long faultEvery;
  /** This instance's metrics, pushed to Triton at the end of every Execute. */
  private final InstanceMetrics metrics;
  /**
   * Test seam (system property {@code java_onnxruntime.test.audit-pointers=true}): logs JavaCPP's
   * byte and pointer counts before and after every Execute, which must be equal.
   */
  private static final boolean AUDIT = Boolean.getBoolean("java_onnxruntime.test.audit-pointers");
  private long executions;

  Executor(ModelState model, TRITONBACKEND_ModelInstance instance, ModelSession session,
      DeviceMemory memory, Stream stream, InputStager stager, GraphPath graphs, CaptureGate gate,
      InstanceMetrics metrics) {
    this.model = model;
    this.config = model.config;
    this.instance = instance;
    this.session = session;
    this.stream = stream;
    this.stager = stager;
    this.graphs = graphs;
    this.gate = gate;
    this.checker = new RequestChecker(config);
    this.faultEvery = model.settings.faultEveryExecutes();
    this.metrics = metrics;
    this.writer = new OutputWriter(model.name, config, memory, stream, stager, session.target().gpu());
  }

  /**
   * Serves one Execute. Throws only before it has touched any request (Triton then answers and
   * releases them all); from the first response on it answers and releases every request itself
   * and returns normally, whatever throws.
   */
  void execute(long requestsAddress, int count) {
    long[] audit = AUDIT ? new long[] {Pointer.totalBytes(), Pointer.totalCount()} : null;
    long execStart = System.nanoTime();
    PointerPointer<?> array = new PointerPointer<>(Handles.at(requestsAddress)).capacity(count);
    List<TRITONBACKEND_Request> handles = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      handles.add(new TRITONBACKEND_Request(array.get(i)));
    }
    if (gate != null) {
      gate.enter();
    }
    // Every native object made from here to the end of the Execute belongs to this scope (the
    // out-parameters of the Triton and ORT calls are made once, with the instance); none is left
    // to the garbage collector.
    PointerScope scope = null;
    OwnedRequests owned;
    try {
      scope = new PointerScope();
      owned = OwnedRequests.take(handles, model.name, instance, writer.responder(), execStart);
    } catch (Throwable t) { // no request touched yet: Triton answers and releases them
      end(scope, new Closer("execute"));
      throw t;
    }
    // From here on every request is ours: nothing below may escape, and each is settled.
    try {
      serve(owned);
    } catch (Throwable t) {
      owned.cleanup().add(t); // what the close answers the unanswered with
    } finally {
      settle(owned, scope, audit);
    }
  }

  /**
   * Answers and releases what is left of the Execute ({@link OwnedRequests#close}), ends it, and
   * logs the failures of its cleanup once. Never throws: the requests are Triton's again.
   */
  private void settle(OwnedRequests owned, PointerScope scope, long[] audit) {
    try {
      owned.close();
      end(scope, owned.cleanup());
      if (owned.cleanup().failure() != null) {
        Log.error("model '" + model.name + "': cleanup of an Execute failed: "
            + Closer.describe(owned.cleanup().failure()));
      }
      if (audit != null) {
        Log.info("pointer audit: model '" + model.name + "' Execute of " + owned.requests.size()
            + " requests: JavaCPP counted " + audit[0] + " bytes in " + audit[1] + " pointers "
            + "before it, " + Pointer.totalBytes() + " bytes in " + Pointer.totalCount()
            + " pointers after it");
      }
    } catch (Throwable t) {
      // Only logging itself failing (out of memory) ends here: the requests are settled, and
      // the Execute must return success, so nothing is left to report it to.
    }
  }

  /**
   * Closes the Execute's scope, then makes the graphs its runs learned (a graph's binding must
   * outlive the scope; it allocates on the device, so inside the gate), then leaves the gate.
   */
  private void end(PointerScope scope, Closer cleanup) {
    cleanup.close("scope", scope);
    for (Runnable learn : toLearn.values()) {
      cleanup.run("learn", learn::run);
    }
    toLearn.clear();
    if (gate != null) {
      cleanup.run("gate", gate::exit);
    }
  }

  private void serve(OwnedRequests owned) {
    List<RequestData> requests = owned.requests;
    try {
      run(requests, owned);
    } catch (Throwable t) {
      owned.failAll(t);
    } finally {
      finish(owned);
    }
  }

  private void run(List<RequestData> requests, OwnedRequests owned) throws Exception {
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
    owned.computeStart = 0;
    for (List<RequestData> group : group(resolved)) {
      try {
        runGroup(group, owned);
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
            runGroup(List.of(r), owned);
          } catch (Exception alone) {
            r.fail(asTriton(alone));
          }
        }
      }
    }
    if (owned.computeStart == 0) {
      owned.computeStart = System.nanoTime();
      owned.computeEnd = owned.computeStart;
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
   * are. {@code owned} gets the start of the first ORT Run and the end of the last: Triton's
   * compute_infer is ORT alone, so compute_input and compute_output are our overhead (binding
   * the tensors counts as input, reading the results as output).
   */
  private void runGroup(List<RequestData> group, OwnedRequests owned) throws Exception {
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
      if (owned.computeStart == 0) {
        owned.computeStart = System.nanoTime();
      }
      List<OutputTensor> results = graphs.run(key, d);
      if (results != null) {
        owned.computeEnd = System.nanoTime();
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
      owned.computeEnd = session.runEndNanos();
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
   * The end of every Execute, each step whatever the steps before it did: synchronise the stream
   * and release what the batch pinned (a failure there fails every request, since their outputs
   * may not be whole), publish the metrics, then answer, report and release each request. A
   * failure is kept in the Execute's cleanup chain (logged once at its end); a request its step
   * failed to answer or release is settled by {@link OwnedRequests#close}.
   */
  private void finish(OwnedRequests owned) {
    Closer cleanup = owned.cleanup();
    Throwable before = cleanup.run("sync", stream::synchronize);
    Throwable finished = cleanup.run("stager-finish", stager::finish);
    if (before != null || finished != null) {
      owned.failAll(before != null ? before : finished);
    }
    if (owned.computeStart == 0) { // failed before any run: no compute phase
      owned.computeStart = owned.execStart;
      owned.computeEnd = owned.execStart;
    }
    // Before the responses go: a client that has its answer sees the figures that include it.
    cleanup.run("metrics", metrics::publish);
    long execEnd = System.nanoTime();
    List<RequestData> requests = owned.requests;
    for (int i = 0; i < requests.size(); i++) {
      int k = i;
      Throwable unanswered = cleanup.run("answer", () -> owned.answer(k));
      if (unanswered != null) {
        requests.get(i).fail(asTriton(unanswered)); // what the close answers it with
      }
      cleanup.run("release", () -> owned.release(k, execEnd));
    }
    cleanup.run("batch-statistics", () -> Log.errorIfFailed(
        TRITONBACKEND_ModelInstanceReportBatchStatistics(instance, owned.succeededRows(),
            owned.execStart, owned.computeStart, owned.computeEnd, execEnd),
        "model '" + model.name + "': TRITONBACKEND_ModelInstanceReportBatchStatistics"));
  }

  static TritonException asTriton(Throwable t) {
    return t instanceof TritonException te ? te : new TritonException(Errors.codeOf(t), Errors.messageOf(t), t);
  }

  @Override
  public void close() {
    Closer closer = new Closer("executor.close");
    closer.close("reader", reader);
    closer.close("writer", writer);
    closer.finish();
  }
}
