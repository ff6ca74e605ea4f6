package dev.javaonnxruntime.resolve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.javaonnxruntime.config.DataType;
import dev.javaonnxruntime.read.BufferLocation;
import dev.javaonnxruntime.read.InputView;
import dev.javaonnxruntime.resolve.InputPlacement.Copy;
import dev.javaonnxruntime.resolve.InputPlacement.Route;
import dev.javaonnxruntime.read.TritonException;
import org.junit.jupiter.api.Test;

/** Every branch of the rule: each memory type Triton can hand over, on a CPU and a GPU instance. */
class InputPlacementTest {
  private static final BufferLocation CPU = BufferLocation.CPU;
  private static final BufferLocation PINNED = new BufferLocation.CpuPinned(0);
  private static final BufferLocation GPU0 = new BufferLocation.Gpu(0);
  private static final BufferLocation GPU1 = new BufferLocation.Gpu(1);

  private static final InputPlacement CPU_INSTANCE = new InputPlacement(-1, () -> 2);
  private static final InputPlacement GPU0_INSTANCE = new InputPlacement(0, () -> 2);

  private static InputView input(BufferLocation... locations) {
    long[] addresses = new long[locations.length];
    long[] sizes = new long[locations.length];
    for (int i = 0; i < locations.length; i++) {
      addresses[i] = 0x1000 * (i + 1);
      sizes[i] = 16;
    }
    return new InputView("image", DataType.FP32, new long[] {1, 4L * locations.length},
        16L * locations.length, addresses, sizes, locations);
  }

  private static void assertRoute(boolean inPlace, Copy[] copies, Route route) {
    assertEquals(inPlace, route.inPlace(), "in place");
    assertArrayEquals(copies, route.copies());
  }

  @Test
  void bindsHostMemoryInPlaceOnACpuInstance() {
    assertRoute(true, new Copy[] {Copy.HOST_TO_HOST}, CPU_INSTANCE.route(input(CPU)));
    assertRoute(true, new Copy[] {Copy.HOST_TO_HOST}, CPU_INSTANCE.route(input(PINNED)));
  }

  @Test
  void copiesGpuMemoryDeviceToHostForACpuInstance() {
    assertRoute(false, new Copy[] {Copy.DEVICE_TO_HOST}, CPU_INSTANCE.route(input(GPU0)));
    assertRoute(false, new Copy[] {Copy.DEVICE_TO_HOST}, CPU_INSTANCE.route(input(GPU1)));
  }

  @Test
  void bindsTheInstancesOwnGpuMemoryInPlace() {
    assertRoute(true, new Copy[] {Copy.DEVICE_TO_DEVICE}, GPU0_INSTANCE.route(input(GPU0)));
  }

  @Test
  void copiesAnotherGpusMemoryPeerToPeer() {
    assertRoute(false, new Copy[] {Copy.PEER_TO_DEVICE}, GPU0_INSTANCE.route(input(GPU1)));
    assertRoute(true, new Copy[] {Copy.DEVICE_TO_DEVICE}, new InputPlacement(1, () -> 2).route(input(GPU1)));
  }

  @Test
  void copiesHostMemoryToAGpuStagingOnlyPageableBytes() {
    assertRoute(false, new Copy[] {Copy.HOST_TO_DEVICE}, GPU0_INSTANCE.route(input(CPU)));
    assertRoute(false, new Copy[] {Copy.PINNED_TO_DEVICE}, GPU0_INSTANCE.route(input(PINNED)));
  }

  @Test
  void gathersSeveralBuffersEachByWhereItIs() {
    assertRoute(false, new Copy[] {Copy.HOST_TO_HOST, Copy.HOST_TO_HOST}, CPU_INSTANCE.route(input(CPU, CPU)));
    assertRoute(false, new Copy[] {Copy.HOST_TO_HOST, Copy.DEVICE_TO_HOST, Copy.HOST_TO_HOST},
        CPU_INSTANCE.route(input(CPU, GPU1, PINNED)));
    assertRoute(false, new Copy[] {Copy.DEVICE_TO_DEVICE, Copy.DEVICE_TO_DEVICE},
        GPU0_INSTANCE.route(input(GPU0, GPU0)));
    assertRoute(false, new Copy[] {Copy.HOST_TO_DEVICE, Copy.PINNED_TO_DEVICE, Copy.DEVICE_TO_DEVICE,
        Copy.PEER_TO_DEVICE}, GPU0_INSTANCE.route(input(CPU, PINNED, GPU0, GPU1)));
  }

  @Test
  void refusesGpuMemoryOnACpuInstanceWhereCudaCannotBeReached() {
    TritonException e = assertThrows(TritonException.class,
        () -> new InputPlacement(-1, () -> 0).route(input(GPU0)));
    assertEquals(TritonException.UNSUPPORTED, e.code());
    String m = e.getMessage();
    assertTrue(m.contains("input 'image'") && m.contains("memory type GPU, id 0")
        && m.contains("the CPU") && m.contains("system shared memory"), m);
  }

  @Test
  void refusesAGpuThisProcessDoesNotSee() {
    TritonException e = assertThrows(TritonException.class,
        () -> new InputPlacement(0, () -> 1).route(input(CPU, GPU1)));
    assertEquals(TritonException.UNSUPPORTED, e.code());
    String m = e.getMessage();
    assertTrue(m.contains("input 'image'") && m.contains("memory type GPU, id 1")
        && m.contains("sees 1 CUDA device") && m.contains("GPU 0"), m);
  }

  @Test
  void asksForTheDeviceCountOnlyWhenAGpuBufferArrives() {
    InputPlacement noCuda = new InputPlacement(-1, () -> {
      throw new AssertionError("the CUDA device count was asked for host memory");
    });
    assertTrue(noCuda.route(input(CPU, PINNED)).copies().length == 2);
    assertTrue(noCuda.route(input(CPU)).inPlace());
  }

  @Test
  void takesAnInputWithoutBuffersAsCopiedNotInPlace() {
    assertFalse(CPU_INSTANCE.route(input()).inPlace());
    assertEquals(0, GPU0_INSTANCE.route(input()).copies().length);
  }

  @Test
  void namesTheInstancesDevice() {
    assertEquals("the CPU", CPU_INSTANCE.describeDevice());
    assertEquals("GPU 0", GPU0_INSTANCE.describeDevice());
  }
}
