package dev.javaonnxruntime.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AutoHashPolicyTest {
  /** Runs {@code requests} requests; each hashed one is a hit when {@code hit} says so. */
  private static int run(AutoHashPolicy policy, int requests, boolean hit) {
    int hashed = 0;
    for (int i = 0; i < requests; i++) {
      if (policy.shouldHash()) {
        hashed++;
        policy.recordLookup(hit);
      }
    }
    return hashed;
  }

  @Test
  void stopsHashingAfterAWindowOfMissesAndProbesAgainLater() {
    AutoHashPolicy policy = new AutoHashPolicy(64, 0.10, 256);
    assertEquals(64, run(policy, 64, false));
    assertTrue(policy.isPaused());
    assertEquals(0, run(policy, 256, false), "the next 256 requests skip hashing");
    assertFalse(policy.isPaused());
    assertEquals(64, run(policy, 64, false), "then a window is probed");
    assertEquals(2, policy.pauses());
  }

  @Test
  void keepsHashingWhileHitRateReachesThreshold() {
    AutoHashPolicy policy = new AutoHashPolicy(10, 0.10, 100);
    for (int window = 0; window < 5; window++) {
      assertEquals(9, run(policy, 9, false));
      assertEquals(1, run(policy, 1, true)); // 1 hit in 10 = 10%: keep hashing
    }
    assertFalse(policy.isPaused());
    assertEquals(0, policy.pauses());
  }

  @Test
  void resumesHashingForGoodWhenProbeFindsHits() {
    AutoHashPolicy policy = new AutoHashPolicy(8, 0.5, 16);
    run(policy, 8, false);
    assertEquals(0, run(policy, 16, true));
    assertEquals(100, run(policy, 100, true));
    assertEquals(1, policy.pauses());
  }

  @Test
  void rejectsNonsenseParameters() {
    assertThrows(IllegalArgumentException.class, () -> new AutoHashPolicy(0, 0.1, 1));
    assertThrows(IllegalArgumentException.class, () -> new AutoHashPolicy(1, 1.5, 1));
    assertThrows(IllegalArgumentException.class, () -> new AutoHashPolicy(1, 0.1, -1));
  }
}
