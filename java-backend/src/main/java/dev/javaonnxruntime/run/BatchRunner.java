package dev.javaonnxruntime.run;

import static dev.javaonnxruntime.read.Failures.asTriton;

import dev.javaonnxruntime.batch.Batch;
import dev.javaonnxruntime.batch.Gatherer;
import dev.javaonnxruntime.batch.GraphPlan;
import dev.javaonnxruntime.config.ModelConfig;
import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.lifecycle.Closer;
import dev.javaonnxruntime.lifecycle.Faults;
import dev.javaonnxruntime.lifecycle.Log;
import dev.javaonnxruntime.onnx.InputTensor;
import dev.javaonnxruntime.onnx.ModelSession;
import dev.javaonnxruntime.onnx.OrtFailure;
import dev.javaonnxruntime.onnx.OutputTensor;
import dev.javaonnxruntime.read.TritonException;
import dev.javaonnxruntime.resolve.ResolvedRequest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The run step: runs each batch once, a CUDA graph replay where the instance has one for its
 * shape ({@link GraphPath}), else eagerly with the inputs bound where they are, and hands the
 * outputs to the respond step while they are valid. A batch ONNX Runtime refuses runs again
 * request by request, so one bad request costs only itself. Used only on the instance's thread.
 */
public final class BatchRunner {
  /** What the respond step does with a batch's outputs, valid only during the call. */
  @FunctionalInterface
  public interface Results {
    /** Writes and keeps each request's slices of {@code outputs} (the run's, for {@code batch}). */
    void accept(Batch batch, List<OutputTensor> outputs);
  }

  /**
   * Enqueues the copies back of a graph's outputs that requests asked for, after its replay, and
   * returns the outputs to read ({@link dev.javaonnxruntime.respond.OutputWriter#copyBack}).
   */
  @FunctionalInterface
  public interface CopyBack {
    List<OutputTensor> enqueue(Batch batch, List<OutputTensor> outputs);
  }

  private final String modelName;
  private final ModelConfig config;
  private final ModelSession session;
  private final Stream stream;
  private final Gatherer gatherer;
  /** The CUDA-graph path (config.pbtxt cuda_graph "on"), or null. */
  private final GraphPath graphs;
  private final CopyBack copyBack;
  /**
   * Graph shapes to learn once the Execute's scope has closed (see {@link #learn}), by shape: a
   * second batch of a shape in the same Execute has run eagerly and learns nothing more.
   */
  private final Map<String, Runnable> toLearn = new LinkedHashMap<>();
  /** The last batch's input shapes and their key: the next batch of the same shapes reuses it. */
  private List<long[]> lastShapes = List.of();
  private String lastKey;

  /** Runs the batches of the model of {@code config} in {@code session}. */
  public BatchRunner(String modelName, ModelConfig config, ModelSession session, Stream stream,
      Gatherer gatherer, GraphPath graphs, CopyBack copyBack) {
    this.modelName = modelName;
    this.config = config;
    this.session = session;
    this.stream = stream;
    this.gatherer = gatherer;
    this.graphs = graphs;
    this.copyBack = copyBack;
  }

  /**
   * Runs one batch; a failure fails its requests (each alone, where ORT refused the batch). {@code
   * prepare} is the Execute's work that needs no result (making the responses): it runs after a
   * graph's replay, while the copies back of its outputs run, else before the eager run. (ONNX
   * Runtime 1.24's replay synchronises the stream after its launch, so the kernels are done by
   * then: nothing overlaps them.)
   */
  public void run(Batch batch, ComputeTimes times, Runnable prepare, Results results) {
    try {
      runBatch(batch, times, prepare, results);
    } catch (Exception e) {
      if (batch.size() == 1 || !(e instanceof OrtFailure)) {
        TritonException failure = asTriton(e);
        batch.requests().forEach(r -> r.fail(failure));
        return;
      }
      // ONNX Runtime refused the batch before any output was written: one bad request (a token
      // id out of range, say) must not cost the others of its batch, so each runs again alone
      // and only those that fail alone get the error.
      Log.verbose("model '" + modelName + "': ONNX Runtime refused a batch of " + batch.size()
          + " requests; running each alone");
      for (int i = 0; i < batch.size(); i++) {
        ResolvedRequest r = batch.requests().get(i);
        try {
          runBatch(batch.alone(i, config), times, prepare, results);
        } catch (Exception alone) {
          r.fail(asTriton(alone));
        }
      }
    }
  }

  /**
   * Runs one batch: replays its CUDA graph when the instance has one for its shape (inputs
   * copied into the graph's fixed buffers), else runs eagerly with the inputs bound where they
   * are. {@code times} gets the start of the first ORT Run and the end of the last: Triton's
   * compute_infer is ORT alone, so compute_input and compute_output are our overhead (binding
   * the tensors counts as input, reading the results as output).
   */
  private void runBatch(Batch batch, ComputeTimes times, Runnable prepare, Results results)
      throws Exception {
    if (batch.outputs().isEmpty()) {
      return;
    }
    String key = graphs == null ? null : shapeKey(batch);
    GraphPlan.Decision d = graphs == null ? null : graphs.decide(batch.totalRows(), key);
    if (d != null && (d.step() == GraphPlan.Step.CAPTURE || d.step() == GraphPlan.Step.REPLAY)) {
      graphs.fill(key, batch, config.inputs(), gatherer);
      times.started(System.nanoTime());
      List<OutputTensor> outputs = graphs.run(key, d);
      if (outputs != null) {
        // Copied back inside compute_infer, as ORT's copies are in an eager run (checks read the
        // fixed buffers themselves).
        outputs = copyBack.enqueue(batch, outputs);
        prepare.run(); // while the copies back run
        times.ended(computeEnd(System.nanoTime()));
      }
      if (outputs != null && graphs.confirm(key, stream)) {
        Faults.at("execute.scatter");
        results.accept(batch, outputs);
        if (d.step() == GraphPlan.Step.CAPTURE) {
          graphs.verify(key, stream);
        }
        return;
      }
      // The graph failed or answered otherwise than the eager run (logged): this batch, and its
      // shape from now on, run eagerly.
    }
    List<InputTensor> inputs = new ArrayList<>();
    for (int i = 0; i < config.inputs().size(); i++) {
      inputs.add(gatherer.prepare(batch, i, config.inputs().get(i)));
    }
    // Learning a shape for its graph needs every output's shape: bind them all this once.
    boolean learn = d != null && d.step() == GraphPlan.Step.LEARN;
    List<String> bound = learn ? config.outputs().stream().map(TensorConfig::name).toList()
        : batch.outputs();
    List<OutputTensor> shown = new ArrayList<>();
    // Outputs stay on the device only where they must (kept, learned); else ORT copies them back.
    ModelSession.OutputConsumer consumer = outputs -> {
      // compute_infer is ORT's Run alone: binding is input work, reading results output work.
      times.started(session.runStartNanos());
      times.ended(computeEnd(session.runEndNanos()));
      if (learn) {
        shown.addAll(outputs); // records: their shapes outlive the run, their addresses do not
      }
      Faults.at("execute.scatter");
      results.accept(batch, outputs);
    };
    prepare.run();
    if (learn || !batch.keepsNothing()) {
      session.run(inputs, bound, consumer);
    } else {
      session.runToHost(inputs, bound, consumer);
    }
    if (learn) {
      // After the Execute's PointerScope, which would release the graph's binding with it.
      toLearn.putIfAbsent(key, () -> graphs.learn(key, inputs, shown));
    }
  }

  /** {@link Batch#shapeKey}, the last one's string while the shapes stay (the hash kept). */
  private String shapeKey(Batch batch) {
    List<long[]> shapes = batch.shapes();
    boolean same = shapes.size() == lastShapes.size();
    for (int i = 0; same && i < shapes.size(); i++) {
      same = Arrays.equals(shapes.get(i), lastShapes.get(i));
    }
    if (!same) {
      lastShapes = shapes.stream().map(long[]::clone).toList();
      lastKey = batch.shapeKey();
    }
    return lastKey;
  }

  /**
   * When the run's compute ended: on the CPU when ORT returned ({@code returned}); on a GPU, where
   * an eager ORT run returns once the kernels are enqueued on the instance stream, when the stream
   * has done them, so that Triton's compute_infer holds the GPU's time (and, as the stock
   * backend's does, the copies back ORT makes in the run) and compute_output only the instance's
   * own copies. It costs one stream synchronisation per batch (after a graph's replay, which ORT
   * has synchronised already, only its outputs' copies back are left to wait for).
   */
  private long computeEnd(long returned) {
    if (!session.target().gpu()) {
      return returned;
    }
    stream.synchronize();
    return System.nanoTime();
  }

  /**
   * Makes the graphs the Execute's runs learned, each a step of {@code cleanup}: after the
   * Execute's PointerScope has closed (a graph's binding must outlive it) and inside the device's
   * capture gate (it allocates on the device).
   */
  public void learn(Closer cleanup) {
    for (Runnable learn : toLearn.values()) {
      cleanup.run("learn", learn::run);
    }
    toLearn.clear();
  }
}
