package dev.javaonnxruntime.batch;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The CUDA-graph bookkeeping of one model instance: for each batch shape, whether it runs eagerly,
 * runs eagerly once more to learn its output shapes, is captured on this run, or replays.
 *
 * <p>Why it exists: a captured graph replays kernels on the device addresses it was captured
 * with, so an instance keeps fixed input and output buffers per captured shape, and it can only
 * size the output buffers after one eager run of that shape has shown them. The decisions (which
 * batch sizes, how many graphs, what failed and why) are kept here, apart from ONNX Runtime and
 * CUDA, so they can be tested without a GPU.
 *
 * <p>A shape's life: first seen, a configured batch size is {@link Step#LEARN}ed by an eager run;
 * after {@link #learned} it gets a graph id and its next batch is {@link Step#CAPTURE}d; after
 * {@link #captured} it {@link Step#REPLAY}s. A batch size outside the configured set, a shape
 * beyond {@link #MAX_GRAPHS}, or a shape whose buffers or capture {@link #failed} runs {@link
 * Step#EAGER} for good; its decision says why, with {@code first} set once so the caller logs one
 * line per shape. Not thread-safe: used by one instance's execute thread only.
 */
public final class GraphPlan {
  /** Graphs (and buffer sets) one instance keeps at most; further shapes run eagerly. */
  public static final int MAX_GRAPHS = 8;

  /** Refused shapes remembered (so each is logged once) before the memory is dropped. */
  static final int MAX_REFUSED = 1024;

  /** What to do with one batch. */
  public enum Step {
    EAGER, LEARN, CAPTURE, REPLAY
  }

  /**
   * The decision for one batch: its step, the graph id for CAPTURE and REPLAY (else -1), and for
   * EAGER the reason, with {@code first} true the first time this shape is refused.
   */
  public record Decision(Step step, int graphId, String reason, boolean first) {}

  private enum State {
    ARMED, CAPTURED, FAILED
  }

  private static final class Slot {
    State state;
    int graphId = -1;
    String reason;
    boolean told;
  }

  private final Set<Long> batchSizes;
  private final boolean batched;
  private final Map<String, Slot> slots = new HashMap<>();
  private final Map<String, Slot> refused = new HashMap<>();
  private int graphs;

  /**
   * A plan capturing the given batch sizes of a batched model (a model without a batch
   * dimension captures its one shape; {@code batchSizes} is then ignored).
   */
  public GraphPlan(Set<Long> batchSizes, boolean batched) {
    this.batchSizes = Set.copyOf(batchSizes);
    this.batched = batched;
    if (batched && batchSizes.isEmpty()) {
      throw new IllegalArgumentException("a batched model needs at least one batch size to capture");
    }
  }

  /** "batch size N (shape [N,...])", or "shape [...]" for a model without a batch dimension. */
  public String describe(String key) {
    if (!batched) {
      return "shape " + key;
    }
    int comma = key.indexOf(',');
    int close = key.indexOf(']');
    return "batch size " + key.substring(1, comma > 0 && comma < close ? comma : close) + " (shape "
        + key + ")";
  }

  /** The batch sizes captured, in order (empty for a model without a batch dimension). */
  public List<Long> batchSizes() {
    return List.copyOf(new TreeSet<>(batchSizes));
  }

  /**
   * The shape key of a batch: the full shape of every input, in the model's input order. Two
   * batches replay the same graph only if their keys are equal.
   */
  public static String shapeKey(List<long[]> inputShapes) {
    StringBuilder key = new StringBuilder();
    for (long[] shape : inputShapes) {
      key.append('[');
      for (int i = 0; i < shape.length; i++) {
        key.append(i == 0 ? "" : ",").append(shape[i]);
      }
      key.append(']');
    }
    return key.toString();
  }

  /** What to do with a batch of {@code rows} rows whose inputs have shape key {@code key}. */
  public Decision decide(long rows, String key) {
    Slot slot = slots.get(key);
    if (slot != null) {
      return switch (slot.state) {
        case ARMED -> new Decision(Step.CAPTURE, slot.graphId, null, false);
        case CAPTURED -> new Decision(Step.REPLAY, slot.graphId, null, false);
        case FAILED -> eager(slot);
      };
    }
    Slot no = refused.get(key);
    if (no != null) {
      return eager(no);
    }
    if (batched && !batchSizes.contains(rows)) {
      return eager(refuse(key, "batch size " + rows + " is not in cuda_graph_batch_sizes "
          + batchSizes()));
    }
    if (graphs >= MAX_GRAPHS) {
      return eager(refuse(key, "the instance already keeps " + MAX_GRAPHS
          + " graphs, the most it captures (one per input shape)"));
    }
    return new Decision(Step.LEARN, -1, null, false);
  }

  /**
   * An eager run of {@code key} has shown its output shapes and its fixed buffers exist: its next
   * batch is captured. Returns the graph id it will be captured under.
   */
  public int learned(String key) {
    if (slots.containsKey(key)) {
      throw new IllegalStateException("shape " + key + " was learned already");
    }
    if (graphs >= MAX_GRAPHS) {
      throw new IllegalStateException("no graph left for shape " + key);
    }
    Slot slot = new Slot();
    slot.state = State.ARMED;
    slot.graphId = ++graphs; // ids from 1: ONNX Runtime reserves -1 (no capture)
    slots.put(key, slot);
    return slot.graphId;
  }

  /** The capture of {@code key} succeeded: its batches replay from now on. */
  public void captured(String key) {
    Slot slot = slots.get(key);
    if (slot == null || slot.state != State.ARMED) {
      throw new IllegalStateException("shape " + key + " was not armed for capture");
    }
    slot.state = State.CAPTURED;
  }

  /**
   * Buffers could not be made for {@code key}, or its capture or a replay failed: it runs eagerly
   * from now on. Its graph id stays used (ONNX Runtime may hold a partial capture under it).
   */
  public void failed(String key, String reason) {
    Slot slot = slots.get(key);
    if (slot == null) {
      refuse(key, reason);
      return;
    }
    slot.state = State.FAILED;
    slot.reason = reason;
  }

  /** Shapes that replay now. */
  public int capturedCount() {
    return (int) slots.values().stream().filter(s -> s.state == State.CAPTURED).count();
  }

  private Slot refuse(String key, String reason) {
    if (refused.size() >= MAX_REFUSED) {
      refused.clear(); // shapes vary without bound (dynamic dims): forget, at worst log again
    }
    Slot slot = new Slot();
    slot.state = State.FAILED;
    slot.reason = reason;
    refused.put(key, slot);
    return slot;
  }

  private static Decision eager(Slot slot) {
    boolean first = !slot.told;
    slot.told = true;
    return new Decision(Step.EAGER, -1, slot.reason, first);
  }
}
