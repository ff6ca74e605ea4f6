package dev.javaonnxruntime.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;
import org.junit.jupiter.api.Test;

/**
 * A graph's fixed input buffer is written again unless it holds the same cache entries' bytes,
 * in the same order; anything that leaves it unknown (a request's own bytes, a failed fill, the
 * zeroed check) makes the next batch write it.
 */
class FixedInputsTest {
  private final List<Long> writes = new ArrayList<>();
  private final LongConsumer filler = writes::add;
  private final FixedInputs fixed = new FixedInputs(List.of(1000L, 2000L));

  @Test
  void writesAnEntryOnceAndLeavesItWhileTheSameEntryComesBack() {
    assertTrue(fixed.fill(0, new long[] {7}, filler));
    assertFalse(fixed.fill(0, new long[] {7}, filler));
    assertFalse(fixed.fill(0, new long[] {7}, filler));
    assertEquals(List.of(1000L), writes);
  }

  @Test
  void writesAgainForAnotherEntryOrOrderOrCount() {
    fixed.fill(0, new long[] {7, 8}, filler);
    assertTrue(fixed.fill(0, new long[] {8, 7}, filler)); // same entries, other rows
    assertTrue(fixed.fill(0, new long[] {8}, filler));
    assertTrue(fixed.fill(0, new long[] {9}, filler));
    assertEquals(4, writes.size());
  }

  @Test
  void alwaysWritesARequestsOwnBytes() {
    assertTrue(fixed.fill(0, null, filler));
    assertTrue(fixed.fill(0, null, filler));
    assertTrue(fixed.fill(0, new long[] {7}, filler)); // what the buffer held was not an entry
    assertEquals(3, writes.size());
  }

  @Test
  void keepsEachBufferApart() {
    fixed.fill(0, new long[] {7}, filler);
    assertTrue(fixed.fill(1, new long[] {7}, filler));
    assertFalse(fixed.fill(0, new long[] {7}, filler));
    assertEquals(List.of(1000L, 2000L), writes);
  }

  @Test
  void aFillThatFailedLeavesTheBufferUnknown() {
    fixed.fill(0, new long[] {7}, filler);
    assertThrows(IllegalStateException.class, () -> fixed.fill(0, new long[] {8}, a -> {
      throw new IllegalStateException("copy refused");
    }));
    assertTrue(fixed.fill(0, new long[] {7}, filler)); // it may hold part of 8
    assertTrue(fixed.fill(0, new long[] {8}, filler));
  }

  @Test
  void writesEveryBufferAgainAfterScratch() {
    fixed.fill(0, new long[] {7}, filler);
    fixed.fill(1, new long[] {8}, filler);
    fixed.scratch(); // the zeroed-input check wrote them
    assertTrue(fixed.fill(0, new long[] {7}, filler));
    assertTrue(fixed.fill(1, new long[] {8}, filler));
    assertEquals(4, writes.size());
  }
}
