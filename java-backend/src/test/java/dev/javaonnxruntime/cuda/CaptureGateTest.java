package dev.javaonnxruntime.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** An instance's finalize runs with no other CUDA work on the device, and never deadlocks itself. */
class CaptureGateTest {
  @Test
  void aloneWaitsForEveryShareAndKeepsNewOnesOut() throws Exception {
    CaptureGate gate = new CaptureGate();
    gate.enter(); // an Execute in progress on this thread
    CountDownLatch alone = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Thread finalize = new Thread(() -> {
      gate.enterAlone();
      alone.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        gate.leave();
      }
    });
    finalize.start();
    assertFalse(alone.await(200, TimeUnit.MILLISECONDS), "finalize ran beside an Execute");
    gate.exit();
    assertTrue(alone.await(10, TimeUnit.SECONDS), "finalize never ran after the Execute ended");

    CountDownLatch entered = new CountDownLatch(1);
    Thread execute = new Thread(() -> {
      gate.enter();
      entered.countDown();
      gate.exit();
    });
    execute.start();
    assertFalse(entered.await(200, TimeUnit.MILLISECONDS), "an Execute ran beside a finalize");
    release.countDown();
    assertTrue(entered.await(10, TimeUnit.SECONDS), "the Execute never ran after the finalize");
    finalize.join(10_000);
    execute.join(10_000);
  }

  @Test
  void aloneRefusesAThreadThatHoldsAShare() {
    CaptureGate gate = new CaptureGate();
    gate.enter();
    try {
      assertThrows(IllegalStateException.class, gate::enterAlone);
    } finally {
      gate.exit();
    }
  }
}
