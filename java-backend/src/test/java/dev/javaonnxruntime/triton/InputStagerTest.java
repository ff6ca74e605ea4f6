package dev.javaonnxruntime.triton;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.javaonnxruntime.config.DataType;
import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.cuda.DeviceAllocationException;
import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.cuda.DeviceReader;
import dev.javaonnxruntime.cuda.Fence;
import dev.javaonnxruntime.cuda.HostBuffer;
import dev.javaonnxruntime.cuda.HostMemory;
import dev.javaonnxruntime.cuda.HostStream;
import dev.javaonnxruntime.cuda.StagingBuffer;
import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.onnx.InputTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The stager takes inputs from every memory type as its instance's rule says, without a GPU:
 * host memory stands in for each device (as in TwoDeviceCacheTest), a counting memory records
 * which copy each buffer took, and a fake reader stands in for cudart's device-to-host copy.
 */
class InputStagerTest {
  private static final TensorConfig IMAGE = new TensorConfig("image", DataType.FP32, new long[] {4}, false);
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

  private InputStager cpuInstance(int cudaDevices) {
    return new InputStager(host, HostStream.INSTANCE, false, false, host,
        new InputPlacement(-1, () -> cudaDevices), reader);
  }

  private InputStager gpu0Instance() {
    return new InputStager(gpu0, HostStream.INSTANCE, true, false, host,
        new InputPlacement(0, () -> 2), reader);
  }

  /** {@code bytes} at a fresh host address (standing in for any memory type). */
  private long place(byte[] bytes) {
    HostBuffer b = new HostBuffer(bytes.length);
    b.put(0, bytes);
    buffers.add(b);
    return b.address();
  }

  private static byte[] pattern(int length, int seed) {
    byte[] bytes = new byte[length];
    for (int i = 0; i < length; i++) {
      bytes[i] = (byte) (seed * 31 + i * 7);
    }
    return bytes;
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
    RequestData r = new RequestData(null);
    r.inputs.put("image", new InputView("image", DataType.FP32, SHAPE, bytes.length, addresses, sizes, where));
    return r;
  }

  private static InputTensor stage(InputStager s, List<RequestData> group, long[] shape) throws Exception {
    s.begin(group);
    for (RequestData r : group) {
      s.resolve(r, List.of(IMAGE));
    }
    return s.prepare(group, IMAGE, shape);
  }

  private static byte[] read(long address, int length) {
    try (HostBuffer b = new HostBuffer(length)) {
      Pointer.memcpy(Handles.at(b.address()), Handles.at(address), length);
      byte[] bytes = new byte[length];
      b.get(0, bytes);
      return bytes;
    }
  }

  @Test
  void bindsAHostInputInPlaceOnACpuInstance() throws Exception {
    byte[] bytes = pattern(BYTES, 1);
    try (InputStager s = cpuInstance(0)) {
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
    try (InputStager s = cpuInstance(1)) {
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
    try (InputStager s = gpu0Instance()) {
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
    try (InputStager s = gpu0Instance()) {
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
    try (InputStager s = gpu0Instance()) {
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
    try (InputStager s = gpu0Instance()) {
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
    try (InputStager s = gpu0Instance()) {
      RequestData r = request(bytes, BufferLocation.CPU);
      long[] shape = {1, bytes.length / 4};
      InputTensor first = stage(s, List.of(r), shape);
      InputTensor again = s.prepare(List.of(r), IMAGE, shape); // as Executor does after an ORT refusal
      assertEquals(first.address(), again.address());
      assertArrayEquals(bytes, read(again.address(), bytes.length));
      assertEquals("h2d h2d ", gpu0.log.toString());
    }
  }

  @Test
  void gathersGpuAndHostBuffersOfOneInputForACpuInstance() throws Exception {
    byte[] bytes = pattern(2 * BYTES, 9);
    try (InputStager s = cpuInstance(2)) {
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
    try (InputStager s = cpuInstance(0)) {
      RequestData good = request(bytes, BufferLocation.CPU);
      RequestData bad = request(bytes, new BufferLocation.Gpu(0));
      s.begin(List.of(good, bad));
      s.resolve(good, List.of(IMAGE));
      TritonException e = assertThrows(TritonException.class, () -> s.resolve(bad, List.of(IMAGE)));
      assertEquals(TritonException.UNSUPPORTED, e.code());
      assertTrue(e.getMessage().contains("memory type GPU, id 0"), e.getMessage());
      InputTensor t = s.prepare(List.of(good), IMAGE, SHAPE);
      assertArrayEquals(bytes, read(t.address(), BYTES));
      assertEquals(0, reader.copies);
    }
  }

  @Test
  void closesTheReaderAndFreesItsArenas() throws Exception {
    InputStager s = cpuInstance(1);
    stage(s, List.of(request(pattern(BYTES, 11), new BufferLocation.Gpu(0))), SHAPE);
    assertTrue(host.liveBytes() > 0);
    s.finish();
    s.close();
    assertEquals(0, host.liveBytes());
    assertTrue(reader.closed);
  }

  /** A device reader over host memory: counts its copies. */
  private static final class FakeReader implements DeviceReader {
    int copies;
    int lastDevice = -1;
    boolean closed;

    @Override
    public void copyToHost(long dst, long src, int device, long bytes) {
      copies++;
      lastDevice = device;
      Pointer.memcpy(Handles.at(dst), Handles.at(src), bytes);
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  /** Host memory standing in for GPU 0 that logs each copy it is asked for. */
  private static final class CountingMemory implements DeviceMemory {
    private final HostMemory memory;
    final StringBuilder log = new StringBuilder();
    final List<Long> h2dSources = new ArrayList<>();

    CountingMemory(HostMemory memory) {
      this.memory = memory;
    }

    @Override
    public int deviceId() {
      return memory.deviceId();
    }

    @Override
    public long allocate(long bytes) throws DeviceAllocationException {
      return memory.allocate(bytes);
    }

    @Override
    public void free(long address) {
      memory.free(address);
    }

    @Override
    public void copyHostToDevice(long dst, long src, long bytes, Stream stream) {
      log.append("h2d ");
      h2dSources.add(src);
      memory.copyHostToDevice(dst, src, bytes, stream);
    }

    @Override
    public void copyDeviceToDevice(long dst, long src, long bytes, Stream stream) {
      log.append("d2d ");
      memory.copyDeviceToDevice(dst, src, bytes, stream);
    }

    @Override
    public void copyDeviceToHost(long dst, long src, long bytes, Stream stream) {
      log.append("d2h ");
      memory.copyDeviceToHost(dst, src, bytes, stream);
    }

    @Override
    public void copyPeerToDevice(long dst, long src, int srcDevice, long bytes, Stream stream) {
      log.append("peer(").append(srcDevice).append(") ");
      memory.copyPeerToDevice(dst, src, srcDevice, bytes, stream);
    }

    @Override
    public Stream newStream() {
      return memory.newStream();
    }

    @Override
    public Fence recordFence(Stream stream) {
      return memory.recordFence(stream);
    }

    @Override
    public StagingBuffer newStagingBuffer(long initialBytes) {
      return memory.newStagingBuffer(initialBytes);
    }
  }
}
