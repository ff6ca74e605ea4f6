package dev.javaonnxruntime.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.javaonnxruntime.batch.GraphPlan.Decision;
import dev.javaonnxruntime.batch.GraphPlan.Step;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GraphPlanTest {
  private static String key(long batch) {
    return GraphPlan.shapeKey(List.of(new long[] {batch, 3, 224, 224}, new long[] {batch, 4}));
  }

  @Test
  void learnsThenCapturesThenReplaysAConfiguredBatchSize() {
    GraphPlan plan = new GraphPlan(Set.of(1L, 8L), true);
    assertEquals(Step.LEARN, plan.decide(1, key(1)).step());
    int id = plan.learned(key(1));
    Decision capture = plan.decide(1, key(1));
    assertEquals(Step.CAPTURE, capture.step());
    assertEquals(id, capture.graphId());
    plan.captured(key(1));
    for (int i = 0; i < 3; i++) {
      Decision replay = plan.decide(1, key(1));
      assertEquals(Step.REPLAY, replay.step());
      assertEquals(id, replay.graphId(), "a shape replays the graph it was captured as");
    }
    assertEquals(1, plan.capturedCount());
  }

  @Test
  void givesEachShapeItsOwnGraphIdAndNeverTheNoCaptureId() {
    GraphPlan plan = new GraphPlan(Set.of(1L, 8L), true);
    plan.decide(1, key(1));
    int one = plan.learned(key(1));
    plan.decide(8, key(8));
    int eight = plan.learned(key(8));
    assertNotEquals(one, eight);
    assertTrue(one > 0 && eight > 0, "ONNX Runtime reads -1 as 'do not capture' and 0 as its default");
  }

  @Test
  void runsABatchSizeOutsideTheSetEagerlyAndSaysWhyOnce() {
    GraphPlan plan = new GraphPlan(Set.of(1L, 8L), true);
    Decision first = plan.decide(3, key(3));
    assertEquals(Step.EAGER, first.step());
    assertTrue(first.first());
    assertTrue(first.reason().contains("batch size 3") && first.reason().contains("[1, 8]"), first.reason());
    Decision again = plan.decide(3, key(3));
    assertEquals(Step.EAGER, again.step());
    assertFalse(again.first(), "the reason is logged once per shape");
  }

  @Test
  void distinguishesShapesOfOneBatchSize() {
    GraphPlan plan = new GraphPlan(Set.of(1L), true);
    String a = GraphPlan.shapeKey(List.of(new long[] {1, 3, 224, 224}));
    String b = GraphPlan.shapeKey(List.of(new long[] {1, 3, 448, 448}));
    assertNotEquals(a, b);
    plan.decide(1, a);
    plan.learned(a);
    assertEquals(Step.LEARN, plan.decide(1, b).step(), "another shape is another graph");
  }

  @Test
  void stopsCapturingBeyondTheGraphLimit() {
    GraphPlan plan = new GraphPlan(Set.of(1L), true);
    for (int i = 0; i < GraphPlan.MAX_GRAPHS; i++) {
      String k = GraphPlan.shapeKey(List.of(new long[] {1, 3, 16 + i, 16}));
      assertEquals(Step.LEARN, plan.decide(1, k).step());
      plan.learned(k);
    }
    Decision d = plan.decide(1, GraphPlan.shapeKey(List.of(new long[] {1, 3, 99, 99})));
    assertEquals(Step.EAGER, d.step());
    assertTrue(d.reason().contains(Integer.toString(GraphPlan.MAX_GRAPHS)), d.reason());
  }

  @Test
  void aFailedCaptureFallsBackToEagerForGood() {
    GraphPlan plan = new GraphPlan(Set.of(1L), true);
    plan.decide(1, key(1));
    plan.learned(key(1));
    assertEquals(Step.CAPTURE, plan.decide(1, key(1)).step());
    plan.failed(key(1), "capture failed: operation not permitted when stream is capturing");
    Decision d = plan.decide(1, key(1));
    assertEquals(Step.EAGER, d.step());
    assertTrue(d.first());
    assertTrue(d.reason().contains("capture failed"), d.reason());
    assertEquals(Step.EAGER, plan.decide(1, key(1)).step());
    assertEquals(0, plan.capturedCount());
    assertThrows(IllegalStateException.class, () -> plan.captured(key(1)));
  }

  @Test
  void aShapeWhoseBuffersCannotBeMadeRunsEagerly() {
    GraphPlan plan = new GraphPlan(Set.of(1L), true);
    assertEquals(Step.LEARN, plan.decide(1, key(1)).step());
    plan.failed(key(1), "its fixed buffers could not be made: out of memory");
    assertEquals(Step.EAGER, plan.decide(1, key(1)).step());
  }

  @Test
  void aModelWithoutBatchDimensionCapturesItsShapeWhateverTheRows() {
    GraphPlan plan = new GraphPlan(Set.of(), false);
    String k = GraphPlan.shapeKey(List.of(new long[] {1, 128}));
    assertEquals(Step.LEARN, plan.decide(1, k).step());
  }

  @Test
  void refusesToBeBuiltWithoutBatchSizesForABatchedModel() {
    assertThrows(IllegalArgumentException.class, () -> new GraphPlan(Set.of(), true));
  }

  @Test
  void refusesToLearnAShapeTwice() {
    GraphPlan plan = new GraphPlan(Set.of(1L), true);
    plan.decide(1, key(1));
    plan.learned(key(1));
    assertThrows(IllegalStateException.class, () -> plan.learned(key(1)));
  }
}
