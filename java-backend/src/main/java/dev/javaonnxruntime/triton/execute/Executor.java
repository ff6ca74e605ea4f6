package dev.javaonnxruntime.triton.execute;

import static dev.javaonnxruntime.read.Failures.asTriton;
import static dev.javaonnxruntime.triton.api.global.TritonApiLib.*;

import dev.javaonnxruntime.batch.Batch;
import dev.javaonnxruntime.batch.Batcher;
import dev.javaonnxruntime.batch.Gatherer;
import dev.javaonnxruntime.config.ModelConfig;
import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.cuda.CaptureGate;
import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.lifecycle.Closer;
import dev.javaonnxruntime.onnx.ModelSession;
import dev.javaonnxruntime.read.RequestChecker;
import dev.javaonnxruntime.read.RequestData;
import dev.javaonnxruntime.resolve.InputStager;
import dev.javaonnxruntime.resolve.ResolvedRequest;
import dev.javaonnxruntime.respond.KeptOutputs;
import dev.javaonnxruntime.respond.OutputWriter;
import dev.javaonnxruntime.run.BatchRunner;
import dev.javaonnxruntime.run.GraphPath;
import dev.javaonnxruntime.triton.Handles;
import dev.javaonnxruntime.triton.Log;
import dev.javaonnxruntime.triton.ModelState;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_ModelInstance;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_Request;
import dev.javaonnxruntime.triton.execute.StepTimes.Step;
import dev.javaonnxruntime.triton.metrics.InstanceMetrics;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;

/**
 * Serves the requests of one {@code TRITONBACKEND_ModelInstanceExecute}, one step after another
 * ({@link #run}): <b>read</b> and check each request ({@link RequestReader}, {@link
 * RequestChecker}), <b>resolve</b> where each input's bytes come from ({@link InputStager}: the
 * device's input cache, or the request's buffers), <b>batch</b> those whose inputs agree in every
 * non-batch dimension ({@link Batcher}), <b>run</b> each batch once ({@link BatchRunner}: IoBinding,
 * or a CUDA graph replay) and <b>respond</b>: write each request's slice of every output it asked
 * for and keep those it named ({@link OutputWriter}), synchronising the instance stream once per
 * batch; then send every response FINAL, report statistics and release every request.
 *
 * <p>Ownership (Triton's rule, as in its recommended backend): once taken, before any call on
 * them, the requests are ours ({@link OwnedRequests}); a failure from then on costs only those it
 * touches, which get an error response, and the call still returns success. The end of every
 * Execute runs each cleanup step whatever the others did (a {@link Closer}), and its close answers
 * every request still unanswered and releases every one still unreleased. Native objects made
 * during an Execute belong to a {@code PointerScope} that ends with it. Used only on the
 * instance's thread.
 */
public final class Executor implements AutoCloseable {
  private final ModelState model;
  private final ModelConfig config;
  private final TRITONBACKEND_ModelInstance instance;
  private final Stream stream;
  private final RequestReader reader;
  private final RequestChecker checker;
  private final InputStager stager;
  private final Batcher batcher;
  private final Gatherer gatherer;
  private final BatchRunner runner; // and the graph shapes the Executes learned
  private final OutputWriter writer;
  private final Responder responder;
  /** The device's capture gate for a GPU instance (held shared during each Execute), or null. */
  private final CaptureGate gate;
  private final long faultEvery;
  /** This instance's metrics, pushed to Triton at the end of every Execute. */
  private final InstanceMetrics metrics;
  private final StepTimes steps;
  private long executions;

  /** The Execute path of one instance of {@code model}, its steps built here or given. */
  public Executor(ModelState model, TRITONBACKEND_ModelInstance instance, ModelSession session,
      DeviceMemory memory, Stream stream, InputStager stager, KeptOutputs kept, GraphPath graphs,
      CaptureGate gate, InstanceMetrics metrics) {
    this.model = model;
    this.config = model.config;
    this.instance = instance;
    this.stream = stream;
    this.stager = stager;
    this.gate = gate;
    this.reader = new RequestReader(config);
    this.checker = new RequestChecker(config);
    this.batcher = new Batcher(config);
    this.gatherer = new Gatherer(stager.copier(), stager.ortCopies(), stager.hostMemory());
    this.writer = new OutputWriter(model.name, config, memory, stream, kept, session.target().gpu());
    this.runner = new BatchRunner(model.name, config, session, stream, gatherer, graphs,
        writer::copyBack);
    this.responder = new Responder(config.outputs().stream().map(TensorConfig::name).toList());
    this.faultEvery = model.settings.faultEveryExecutes();
    this.metrics = metrics;
    this.steps = new StepTimes(model.name);
  }

  /**
   * Serves one Execute. Throws only before it has taken the requests (Triton then answers and
   * releases them all); from then on it answers and releases every request itself and returns
   * normally, whatever throws. {@code entered}, when the shim's entry point began (on
   * System.nanoTime's clock), is the Execute's start for Triton's statistics: the call into the
   * JVM counts in compute_input, as all of the stock backend's Execute does, not in the queue. A
   * value of another clock (0, or later than now) falls back to now.
   */
  public void execute(long requestsAddress, int count, long entered) {
    long execStart = execStart(entered, System.nanoTime());
    steps.start(execStart, count);
    steps.mark(Step.ENTER);
    PointerAudit audit = PointerAudit.start();
    LongPointer array = new LongPointer(Handles.at(requestsAddress)).capacity(count);
    List<TRITONBACKEND_Request> handles = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      handles.add(new TRITONBACKEND_Request(Handles.at(array.get(i))));
    }
    if (gate != null) {
      gate.enter();
    }
    // Every native object made from here to the end of the Execute belongs to this scope, none
    // to the garbage collector (the calls' out-parameters are made once, with the instance).
    PointerScope scope = null;
    OwnedRequests owned;
    try {
      scope = new PointerScope();
      owned = OwnedRequests.take(handles, model.name, instance, responder, execStart);
      steps.mark(Step.TAKE);
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
   * The Execute's start: {@code entered}, the shim's timestamp, unless it cannot be one of
   * System.nanoTime's clock read before {@code now} (0: none; later than now: another clock).
   */
  static long execStart(long entered, long now) {
    return entered > 0 && entered <= now ? entered : now;
  }

  /**
   * Answers and releases what is left of the Execute ({@link OwnedRequests#close}), ends it, and
   * logs the failures of its cleanup once. Never throws: the requests are Triton's again.
   */
  private void settle(OwnedRequests owned, PointerScope scope, PointerAudit audit) {
    try {
      owned.close();
      end(scope, owned.cleanup());
      if (owned.cleanup().failure() != null) {
        Log.error("model '" + model.name + "': cleanup of an Execute failed: "
            + Closer.describe(owned.cleanup().failure()));
      }
      if (audit != null) {
        audit.log(model.name, owned.requests.size());
      }
      steps.end();
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
    runner.learn(cleanup);
    if (gate != null) {
      cleanup.run("gate", gate::exit);
    }
  }

  private void serve(OwnedRequests owned) {
    try {
      run(owned);
    } catch (Throwable t) {
      owned.failAll(t);
    } finally {
      finish(owned);
    }
  }

  /** The request path: read, resolve, batch, run, respond. A failure costs its requests only. */
  private void run(OwnedRequests owned) throws Exception {
    if (faultEvery > 0 && ++executions % faultEvery == 0) {
      // Test seam (test_fault_execute_every): a failure after the responses exist costs them only.
      throw new IllegalStateException("injected fault in execute " + executions);
    }
    stager.expect();
    List<RequestData> read = reader.readAll(owned, checker);
    steps.mark(Step.READ);
    List<ResolvedRequest> resolved = stager.resolveAll(read, config.inputs());
    steps.mark(Step.RESOLVE);
    owned.times.reset();
    for (Batch batch : batcher.group(resolved)) {
      runner.run(batch, owned.times, owned::open, (b, out) -> writer.write(b, out, owned));
    }
    steps.compute(owned.times.start(), owned.times.end());
    steps.mark(Step.WRITE);
    if (owned.times.unset()) {
      owned.times.none(System.nanoTime());
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
    steps.mark(Step.FINISH);
    if (owned.times.unset()) { // failed before any run: no compute phase
      owned.times.none(owned.execStart);
    }
    // Before the responses go: a client that has its answer sees the figures that include it.
    cleanup.run("metrics", metrics::publish);
    steps.mark(Step.METRICS);
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
    steps.mark(Step.ANSWER);
    cleanup.run("batch-statistics", () -> Log.errorIfFailed(
        TRITONBACKEND_ModelInstanceReportBatchStatistics(instance, owned.succeededRows(),
            owned.execStart, owned.times.start(), owned.times.end(), execEnd),
        model.name, "TRITONBACKEND_ModelInstanceReportBatchStatistics"));
  }

  @Override
  public void close() {
    Closer closer = new Closer("executor.close");
    closer.close("reader", reader);
    closer.close("writer", writer);
    closer.close("responder", responder);
    closer.close("gatherer", gatherer);
    closer.finish();
  }
}
