package dev.javaonnxruntime.run;

import dev.javaonnxruntime.batch.Batch;
import dev.javaonnxruntime.batch.Gatherer;
import dev.javaonnxruntime.batch.GraphPlan;
import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.cuda.CaptureGate;
import dev.javaonnxruntime.cuda.DeviceAllocationException;
import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.lifecycle.Closer;
import dev.javaonnxruntime.lifecycle.Log;
import dev.javaonnxruntime.onnx.FixedRun;
import dev.javaonnxruntime.onnx.InputTensor;
import dev.javaonnxruntime.onnx.ModelSession;
import dev.javaonnxruntime.onnx.OutputTensor;
import dev.javaonnxruntime.read.Failures;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The CUDA-graph path of one GPU instance (config.pbtxt {@code cuda_graph: "on"}): per captured
 * batch shape, an ONNX Runtime session of its own that runs nothing but that shape ({@link
 * ModelSession#graphSession}: a graph captured in a session that also runs other shapes replayed
 * wrong values after them on the H200), input and output buffers at fixed device addresses, and
 * the binding that replays the graph over them ({@link GraphSlot}). Each batch fills the input
 * buffers on the instance stream (device to device from the cache, or through pinned staging;
 * not at all where they hold its cache entries' bytes already: {@link FixedInputs}), replays,
 * and reads the outputs from the fixed buffers; a shape that cannot be captured, or whose replay
 * fails a check ({@link GraphCheck}), runs eagerly, logged once ({@link GraphPlan} decides).
 *
 * <p>Ownership: the instance owns this object; it owns the shapes' slots and closes them in
 * {@link #close} after the instance has synchronised its stream. A shape whose graph failed
 * keeps its buffers until then, since work enqueued on the stream may still use them. Used only
 * on the instance's execute thread.
 */
public final class GraphPath implements AutoCloseable {
  /** A captured shape's first batches, its capture's included, checked by {@link #confirm}. */
  public static final int CHECKED_BATCHES = 2;

  private final String label;
  private final ModelSession session;
  private final DeviceMemory memory;
  private final CaptureGate gate;
  private final GraphPlan plan;
  private final Map<String, GraphSlot> slots = new HashMap<>();
  private final GraphCheck check;

  public GraphPath(String model, String instance, ModelSession session, DeviceMemory memory,
      CaptureGate gate, GraphPlan plan) {
    this.label = "cuda_graph: model '" + model + "' instance '" + instance + "'";
    this.session = session;
    this.memory = memory;
    this.gate = gate;
    this.plan = plan;
    this.check = new GraphCheck(session, memory);
  }

  /** What to do with a batch of {@code rows} rows of shape {@code key}; logs a refusal once. */
  public GraphPlan.Decision decide(long rows, String key) {
    GraphPlan.Decision d = plan.decide(rows, key);
    if (d.step() == GraphPlan.Step.EAGER && d.first()) {
      Log.info(label + ": " + plan.describe(key) + " runs eagerly: " + d.reason());
    }
    return d;
  }

  /** Logs why a shape that just failed runs eagerly from now on. */
  private void refused(String key) {
    GraphPlan.Decision d = plan.decide(0, key);
    Log.warn(label + ": " + plan.describe(key) + " runs eagerly: " + d.reason());
  }

  /**
   * After the eager run that learned shape {@code key}: allocates the fixed buffers for its
   * inputs and outputs (of the names, types, sizes and shapes given; their addresses are not
   * used), opens the shape's own session and binds them there, so its next batch is captured.
   * Must be called outside any {@code PointerScope}: the binding lives until {@link #close}. On
   * failure the shape stays eager (logged); nothing is thrown, the run's results are still good.
   */
  public void learn(String key, List<InputTensor> inputs, List<OutputTensor> outputs) {
    List<Long> blocks = new ArrayList<>();
    ModelSession own = null;
    long free = memory.freeBytes();
    long start = System.nanoTime();
    try {
      List<InputTensor> in = new ArrayList<>();
      for (InputTensor t : inputs) {
        long a = allocate(t.byteSize(), blocks);
        in.add(new InputTensor(t.name(), t.dataType(), a, t.byteSize(), t.shape(), true));
      }
      List<OutputTensor> out = new ArrayList<>();
      for (OutputTensor t : outputs) {
        long a = allocate(t.byteSize(), blocks);
        out.add(new OutputTensor(t.name(), t.dataType(), a, t.byteSize(), t.shape(), true));
      }
      own = session.graphSession();
      int id = plan.learned(key);
      FixedRun run = own.fixedRun(in, out, id);
      slots.put(key, new GraphSlot(own, run, in, blocks,
          fell(free, memory.freeBytes()) + " (opened in " + (System.nanoTime() - start) / 1_000_000
              + " ms)"));
    } catch (DeviceAllocationException | RuntimeException e) {
      blocks.forEach(memory::free); // nothing was enqueued on them yet
      if (own != null) {
        own.close();
      }
      plan.failed(key, "its fixed buffers could not be made: " + Failures.messageOf(e));
      refused(key);
    }
  }

  /**
   * Fills the fixed input buffers of shape {@code key} with the batch's {@code inputs} (config
   * order), each unless it holds the same cache entries' bytes already ({@link FixedInputs}).
   */
  public void fill(String key, Batch batch, List<TensorConfig> inputs, Gatherer gatherer) {
    FixedInputs fixed = slots.get(key).fixed;
    for (int i = 0; i < inputs.size(); i++) {
      TensorConfig c = inputs.get(i);
      fixed.fill(i, Gatherer.entryIds(batch, c), dst -> gatherer.fill(batch, c, dst));
    }
  }

  /**
   * Captures (step CAPTURE, alone on the device) or replays (REPLAY) the graph of shape {@code
   * key} and returns its outputs, at their fixed addresses. Returns null when the graph failed:
   * the shape runs eagerly from now on (logged) and the caller runs this batch eagerly.
   */
  public List<OutputTensor> run(String key, GraphPlan.Decision d) {
    GraphSlot slot = slots.get(key);
    try {
      if (d.step() == GraphPlan.Step.CAPTURE) {
        long start = System.nanoTime();
        String captured = gate.exclusive(() -> { // alone on the device: what it takes is its own
          long free = memory.freeBytes();
          slot.run.run();
          return fell(free, memory.freeBytes());
        });
        plan.captured(key);
        Log.info(label + ": captured " + plan.describe(key) + " as graph " + d.graphId() + " in "
            + (System.nanoTime() - start) / 1_000_000 + " ms; device memory: "
            + slot.opened + " for its own session and buffers (other work on the device may "
            + "add to it), " + captured + " more for the capture");
      } else {
        slot.run.run();
      }
      return slot.run.outputs();
    } catch (RuntimeException e) {
      plan.failed(key, (d.step() == GraphPlan.Step.CAPTURE ? "capture" : "replay") + " failed: "
          + Failures.messageOf(e));
      refused(key);
      return null;
    }
  }

  /**
   * For the first {@link #CHECKED_BATCHES} batches of shape {@code key}, its capture's included,
   * right after the graph ran and before anything reads its outputs: runs the same input buffers
   * eagerly and compares ({@link GraphCheck#againstEager}). Returns false where the outputs
   * differ or the check fails: the shape runs eagerly from now on (logged), and the caller
   * answers this batch from an eager run. Later batches return true at once.
   */
  public boolean confirm(String key, Stream stream) {
    GraphSlot slot = slots.get(key);
    int done = slot.confirmed;
    if (done >= CHECKED_BATCHES) {
      return true;
    }
    try {
      String differs = check.againstEager(slot.run, slot.inputs, stream);
      if (differs != null) {
        plan.failed(key, "its replay of batch " + (done + 1) + " differs from the eager run of "
            + "the same inputs (output '" + differs + "')");
        refused(key);
        return false;
      }
    } catch (Exception e) {
      plan.failed(key, "the check of its replay against the eager run failed: "
          + Failures.messageOf(e));
      refused(key);
      return false;
    }
    slot.confirmed = done + 1;
    if (done + 1 == CHECKED_BATCHES) {
      Log.info(label + ": " + plan.describe(key) + " answered its first " + CHECKED_BATCHES
          + " batches bit for bit as the eager run of the same inputs");
    }
    return true;
  }

  /**
   * Right after shape {@code key} was captured (its batch's output copies already enqueued on
   * {@code stream}): replays the graph once on zeroed input buffers and compares it with the
   * eager run on them ({@link GraphCheck#onZeros}). A replay that differs does not read what its
   * input buffers hold, so the shape runs eagerly from now on, logged; so does a check that
   * fails.
   */
  public void verify(String key, Stream stream) {
    GraphSlot slot = slots.get(key);
    slot.fixed.scratch();
    try {
      String differs = check.onZeros(slot.run, slot.inputs, stream);
      if (differs != null) {
        plan.failed(key, "its replay on zeroed inputs differs from the eager run on them (output '"
            + differs + "'): the graph does not read its input buffers");
        refused(key);
        return;
      }
      Log.info(label + ": " + plan.describe(key) + " replays what its input buffers hold (checked "
          + "against an eager run on zeroed inputs)");
    } catch (Exception e) {
      plan.failed(key, "the check of its replay failed: " + Failures.messageOf(e));
      refused(key);
    }
  }

  /** How far the device's free memory fell from {@code before} to {@code after}. */
  private static String fell(long before, long after) {
    return before < 0 || after < 0 ? "unknown" : String.format("%.1f MiB",
        (before - after) / 1048576.0);
  }

  private long allocate(long bytes, List<Long> blocks) throws DeviceAllocationException {
    long a = memory.allocate(Math.max(bytes, 1));
    blocks.add(a);
    return a;
  }

  /** Shapes that replay now. */
  public int capturedCount() {
    return plan.capturedCount();
  }

  /**
   * Releases the bindings and frees the buffers, each even when another fails (the first failure
   * is thrown, later ones suppressed); the stream must be synchronised.
   */
  @Override
  public void close() {
    Closer closer = new Closer("graphs.close");
    for (GraphSlot s : slots.values()) {
      s.close(closer, memory);
    }
    slots.clear();
    closer.finish();
  }
}
