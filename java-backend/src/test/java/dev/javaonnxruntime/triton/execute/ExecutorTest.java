package dev.javaonnxruntime.triton.execute;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ExecutorTest {
  @Test
  void startsAtTheShimsTimestamp() {
    assertEquals(1_000L, Executor.execStart(1_000L, 6_000L));
    assertEquals(6_000L, Executor.execStart(6_000L, 6_000L));
  }

  @Test
  void startsNowWithoutAShimTimestampOrWithOneOfAnotherClock() {
    assertEquals(6_000L, Executor.execStart(0L, 6_000L), "none");
    assertEquals(6_000L, Executor.execStart(9_000L, 6_000L), "after now: not System.nanoTime's");
    assertEquals(6_000L, Executor.execStart(-5L, 6_000L), "negative");
  }
}
