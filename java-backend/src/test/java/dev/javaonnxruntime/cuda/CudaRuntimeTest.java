package dev.javaonnxruntime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CudaRuntimeTest {
  @Test
  void reportsDeviceCountWithoutThrowingAndExplainsAbsence() {
    int devices = CudaRuntime.deviceCount();
    assertTrue(devices >= 0);
    if (devices == 0) {
      assertNotNull(CudaRuntime.unavailabilityCause(), "no device must come with a reason");
    }
  }

  @Test
  void turnsErrorCodeIntoExceptionWithCallDeviceAndCudaText() {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        CudaRuntime.unavailabilityCause() == null
            || CudaRuntime.unavailabilityCause() instanceof CudaException,
        "libcudart does not load here");
    CudaException error =
        assertThrows(CudaException.class, () -> CudaRuntime.check(2, "cudaMalloc(1)", 3));
    assertEquals(2, error.errorCode());
    assertTrue(error.getMessage().startsWith("cudaMalloc(1) on device 3 failed: cudaErrorMemoryAllocation (2): "),
        error.getMessage());
  }
}
