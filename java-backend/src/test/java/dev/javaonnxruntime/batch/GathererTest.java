package dev.javaonnxruntime.batch;

import static dev.javaonnxruntime.batch.GatherFixture.pattern;
import static dev.javaonnxruntime.batch.GatherFixture.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.javaonnxruntime.batch.GatherFixture.Instance;
import dev.javaonnxruntime.config.DataType;
import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.cuda.HostBuffer;
import dev.javaonnxruntime.cuda.HostMemory;
import dev.javaonnxruntime.cuda.HostStream;
import dev.javaonnxruntime.onnx.InputTensor;
import dev.javaonnxruntime.read.BufferLocation;
import dev.javaonnxruntime.read.InputView;
import dev.javaonnxruntime.read.RequestData;
import dev.javaonnxruntime.resolve.InputCopier;
import dev.javaonnxruntime.resolve.InputLookup;
import dev.javaonnxruntime.resolve.InputPlacement;
import dev.javaonnxruntime.resolve.InputSource;
import dev.javaonnxruntime.resolve.InputStager;
import dev.javaonnxruntime.resolve.ResolvedRequest;
import dev.javaonnxruntime.read.TritonException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The stager resolves and the gatherer takes inputs from every memory type as their instance's
 * rule says, without a GPU:
 * host memory stands in for each device (as in TwoDeviceCacheTest), a counting memory records
 * which copy each buffer took, and a fake reader stands in for cudart's device-to-host copy.
 */
class GathererTest {
  private static final TensorConfig IMAGE = GatherFixture.IMAGE;
  private static final long[] SHAPE = {1, 4};
  private static final int BYTES = 16;

  private final List<HostBuffer> buffers = new ArrayList<>();
  private final HostMemory host = new HostMemory();
  private final CountingMemory gpu0 = new CountingMemory(new HostMemory(0, 1 << 20));
  private final FakeReader reader = new FakeReader();

  @AfterEach
  void freeBuffers() {
    buffers.forEach(HostBuffer::close);
  }

  private Instance instance(InputPlacement placement, DeviceMemory memory, boolean gpu) {
    return instance(placement, memory, gpu, InputLookup.NONE);
  }

  private Instance instance(InputPlacement placement, DeviceMemory memory, boolean gpu,
      InputLookup lookup) {
    InputCopier copier = InputStager.copier(memory, HostStream.INSTANCE, gpu, reader);
    return new Instance(new InputStager(placement, copier, lookup, false, host),
        new Gatherer(copier, false, host));
  }

  private Instance cpuInstance(int cudaDevices) {
    return instance(new InputPlacement(-1, () -> cudaDevices), host, false);
  }

  private Instance gpu0Instance() {
    return instance(new InputPlacement(0, () -> 2), gpu0, true);
  }

  /** {@code bytes} at a fresh host address (standing in for any memory type). */
  private long place(byte[] bytes) {
    HostBuffer b = new HostBuffer(bytes.length);
    b.put(0, bytes);
    buffers.add(b);
    return b.address();
  }

  /** A request whose input 'image' is {@code bytes}, split evenly over buffers at {@code where}. */
  private RequestData request(byte[] bytes, BufferLocation... where) {
    int n = where.length;
    long[] addresses = new long[n];
    long[] sizes = new long[n];
    for (int i = 0; i < n; i++) {
      byte[] part = Arrays.copyOfRange(bytes, i * bytes.length / n, (i + 1) * bytes.length / n);
      addresses[i] = place(part);
      sizes[i] = part.length;
    }
    RequestData r = new RequestData(0);
    r.inputs.put("image", new InputView("image", DataType.FP32, SHAPE, bytes.length, addresses, sizes, where));
    return r;
  }

  private static InputTensor stage(Instance s, List<RequestData> group, long[] shape) throws Exception {
    s.stager().begin(group);
    List<ResolvedRequest> resolved = new ArrayList<>();
    for (RequestData r : group) {
      resolved.add(s.stager().resolve(r, List.of(IMAGE)));
    }
    return s.prepare(resolved, shape);
  }

  @Test
  void namesTheCacheEntriesOfABatchAndNoneWhereARequestBringsItsBytes() throws Exception {
    long entry = place(pattern(BYTES, 9));
    // A request that sent no image is served from "entry 42" (as a named key's hit is).
    InputLookup lookup = (r, c, v) -> v == null ? new InputSource.Resident(SHAPE, BYTES, entry, 42)
        : null;
    try (Instance s = instance(new InputPlacement(0, () -> 1), gpu0, true, lookup)) {
      RequestData hit = new RequestData(0);
      RequestData sent = request(pattern(BYTES, 10), BufferLocation.CPU);
      assertArrayEquals(new long[] {42, 42}, Gatherer.entryIds(batch(s, List.of(hit, hit)), IMAGE));
      assertEquals(null, Gatherer.entryIds(batch(s, List.of(hit, sent)), IMAGE));
    }
  }

  private static Batch batch(Instance s, List<RequestData> group) throws Exception {
    s.stager().begin(group);
    List<ResolvedRequest> resolved = new ArrayList<>();
    for (RequestData r : group) {
      resolved.add(s.stager().resolve(r, List.of(IMAGE)));
    }
    long[] rows = resolved.stream().mapToLong(ResolvedRequest::rows).toArray();
    return new Batch(resolved, new BatchLayout(rows), List.of(new long[] {group.size(), 4}),
        List.of("out"));
  }

  @Test
  void bindsAHostInputInPlaceOnACpuInstance() throws Exception {
    byte[] bytes = pattern(BYTES, 1);
    try (Instance s = cpuInstance(0)) {
      RequestData r = request(bytes, BufferLocation.CPU);
      InputTensor t = stage(s, List.of(r), SHAPE);
      assertEquals(r.inputs.get("image").addresses()[0], t.address());
      assertFalse(t.onDevice());
      assertEquals(0, reader.copies);
    }
  }

  @Test
  void copiesAGpuInputToHostMemoryBeforeACpuInstanceReadsIt() throws Exception {
    byte[] bytes = pattern(BYTES, 2);
    try (Instance s = cpuInstance(1)) {
      RequestData r = request(bytes, new BufferLocation.Gpu(0));
      InputTensor t = stage(s, List.of(r), SHAPE);
      assertNotEquals(r.inputs.get("image").addresses()[0], t.address(), "a device pointer bound on the CPU");
      assertFalse(t.onDevice());
      assertEquals(1, reader.copies);
      assertEquals(0, reader.lastDevice);
      assertArrayEquals(bytes, read(t.address(), BYTES));
    }
  }

  @Test
  void bindsAnInputOnTheInstancesOwnGpuInPlace() throws Exception {
    try (Instance s = gpu0Instance()) {
      RequestData r = request(pattern(BYTES, 3), new BufferLocation.Gpu(0));
      InputTensor t = stage(s, List.of(r), SHAPE);
      assertEquals(r.inputs.get("image").addresses()[0], t.address());
      assertTrue(t.onDevice());
      assertEquals("", gpu0.log.toString());
    }
  }

  @Test
  void copiesAnotherGpusInputPeerToPeerOnTheInstancesStream() throws Exception {
    byte[] bytes = pattern(BYTES, 4);
    try (Instance s = gpu0Instance()) {
      RequestData r = request(bytes, new BufferLocation.Gpu(1));
      InputTensor t = stage(s, List.of(r), SHAPE);
      assertNotEquals(r.inputs.get("image").addresses()[0], t.address(), "GPU 1's memory bound on GPU 0");
      assertTrue(t.onDevice());
      assertEquals("peer(1) ", gpu0.log.toString());
      assertArrayEquals(bytes, read(t.address(), BYTES));
    }
  }

  @Test
  void copiesPinnedHostBytesStraightAndPageableOnesThroughStaging() throws Exception {
    byte[] bytes = pattern(BYTES, 5);
    try (Instance s = gpu0Instance()) {
      RequestData r = request(bytes, BufferLocation.CPU, new BufferLocation.CpuPinned(0));
      InputView v = r.inputs.get("image");
      InputTensor t = stage(s, List.of(r), SHAPE);
      assertEquals("h2d h2d ", gpu0.log.toString());
      assertNotEquals(v.addresses()[0], gpu0.h2dSources.get(0), "pageable bytes copied without staging");
      assertEquals(v.addresses()[1], gpu0.h2dSources.get(1), "pinned bytes staged again");
      assertArrayEquals(bytes, read(t.address(), BYTES));
      assertEquals(0, reader.copies);
    }
  }

  @Test
  void gathersABatchFromEveryMemoryTypeInRequestOrder() throws Exception {
    byte[] a = pattern(BYTES, 6);
    byte[] b = pattern(BYTES, 7);
    byte[] c = pattern(BYTES, 8);
    try (Instance s = gpu0Instance()) {
      List<RequestData> group = List.of(request(a, BufferLocation.CPU), request(b, new BufferLocation.Gpu(0)),
          request(c, new BufferLocation.Gpu(1)));
      InputTensor t = stage(s, group, new long[] {3, 4});
      assertEquals("h2d d2d peer(1) ", gpu0.log.toString());
      byte[] expected = new byte[3 * BYTES];
      System.arraycopy(a, 0, expected, 0, BYTES);
      System.arraycopy(b, 0, expected, BYTES, BYTES);
      System.arraycopy(c, 0, expected, 2 * BYTES, BYTES);
      assertArrayEquals(expected, read(t.address(), 3 * BYTES));
    }
  }

  @Test
  void stagesAnInputAgainWhenItsBatchRunsAgainRequestByRequest() throws Exception {
    byte[] bytes = pattern(700_000, 12); // twice is more than the 1 MiB staging buffer holds
    try (Instance s = gpu0Instance()) {
      RequestData r = request(bytes, BufferLocation.CPU);
      long[] shape = {1, bytes.length / 4};
      InputTensor first = stage(s, List.of(r), shape);
      // as the run step does after an ORT refusal
      InputTensor again = s.prepare(List.of(s.stager().resolve(r, List.of(IMAGE))), shape);
      assertEquals(first.address(), again.address());
      assertArrayEquals(bytes, read(again.address(), bytes.length));
      assertEquals("h2d h2d ", gpu0.log.toString());
    }
  }

  @Test
  void gathersGpuAndHostBuffersOfOneInputForACpuInstance() throws Exception {
    byte[] bytes = pattern(2 * BYTES, 9);
    try (Instance s = cpuInstance(2)) {
      RequestData r = request(bytes, BufferLocation.CPU, new BufferLocation.Gpu(1));
      InputTensor t = stage(s, List.of(r), new long[] {1, 8});
      assertEquals(1, reader.copies);
      assertEquals(1, reader.lastDevice);
      assertArrayEquals(bytes, read(t.address(), 2 * BYTES));
    }
  }

  @Test
  void refusesAnUnreachableInputForItsRequestAlone() throws Exception {
    byte[] bytes = pattern(BYTES, 10);
    try (Instance s = cpuInstance(0)) {
      RequestData good = request(bytes, BufferLocation.CPU);
      RequestData bad = request(bytes, new BufferLocation.Gpu(0));
      s.stager().begin(List.of(good, bad));
      ResolvedRequest resolved = s.stager().resolve(good, List.of(IMAGE));
      TritonException e = assertThrows(TritonException.class,
          () -> s.stager().resolve(bad, List.of(IMAGE)));
      assertEquals(TritonException.UNSUPPORTED, e.code());
      assertTrue(e.getMessage().contains("memory type GPU, id 0"), e.getMessage());
      InputTensor t = s.prepare(List.of(resolved), SHAPE);
      assertArrayEquals(bytes, read(t.address(), BYTES));
      assertEquals(0, reader.copies);
    }
  }

  @Test
  void closesTheReaderAndFreesItsArenas() throws Exception {
    Instance s = cpuInstance(1);
    stage(s, List.of(request(pattern(BYTES, 11), new BufferLocation.Gpu(0))), SHAPE);
    assertTrue(host.liveBytes() > 0);
    s.stager().finish();
    s.close();
    assertEquals(0, host.liveBytes());
    assertTrue(reader.closed);
  }
}
