package dev.javaonnxruntime.respond;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.javaonnxruntime.batch.Batch;
import dev.javaonnxruntime.batch.BatchLayout;
import dev.javaonnxruntime.config.DataType;
import dev.javaonnxruntime.config.ModelConfig;
import dev.javaonnxruntime.cuda.HostBuffer;
import dev.javaonnxruntime.cuda.HostBytes;
import dev.javaonnxruntime.cuda.HostMemory;
import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.onnx.OutputTensor;
import dev.javaonnxruntime.read.RequestData;
import dev.javaonnxruntime.read.TritonException;
import dev.javaonnxruntime.resolve.ResolvedRequest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The respond step of a GPU instance (host memory standing in for the device): an output ORT left
 * on the device crosses through the pinned buffer with one synchronisation per batch; one ORT
 * copied to host memory in its run is written from where it lies, with no copy and no
 * synchronisation; and only device memory can be kept.
 */
class OutputWriterTest {
  private static final long BYTES = 16;
  private final ModelConfig config = config();
  private final HostMemory memory = new HostMemory();
  private final CountingStream stream = new CountingStream();
  private final List<Long> kept = new ArrayList<>();
  private final List<Long> written = new ArrayList<>();
  private final HostBuffer output = new HostBuffer(BYTES);
  private final OutputWriter writer = new OutputWriter("m", config, memory, stream,
      (name, key, type, shape, address, bytes) -> kept.add(address), true);

  @AfterEach
  void close() {
    writer.close();
    output.close();
  }

  @Test
  void anOutputOnTheDeviceCrossesThroughThePinnedBufferWithOneSynchronisation() {
    RequestData r = request();
    writer.write(batch(r), List.of(tensor(true)), sink());
    assertEquals(1, stream.synchronizations);
    assertEquals(1, written.size());
    assertNotEquals(output.address(), written.get(0), "written from the pinned copy");
    assertFalse(r.failed());
  }

  @Test
  void anOutputOrtCopiedToTheHostIsWrittenInPlaceWithoutACopyOrASynchronisation() {
    RequestData r = request();
    writer.write(batch(r), List.of(tensor(false)), sink());
    assertEquals(0, stream.synchronizations);
    assertEquals(List.of(output.address()), written);
    assertFalse(r.failed());
  }

  @Test
  void anOutputInHostMemoryCannotBeKeptAndFailsOnlyTheRequestThatNamedAKey() {
    RequestData keeps = request();
    keeps.putOutputKey("y", "k1");
    RequestData other = request();
    writer.write(batch(keeps, other), List.of(tensor(false, 2)), sink());
    assertTrue(keeps.failed());
    assertEquals(TritonException.INTERNAL, keeps.error().code());
    assertFalse(other.failed());
    assertTrue(kept.isEmpty());
    assertEquals(1, written.size(), "the other request still gets its rows");
  }

  @Test
  void aKeptOutputOnTheDeviceIsKeptAndSynchronisedEvenWhenNoRequestAsksForIt() {
    RequestData r = request();
    r.requestedOutputs = List.of();
    r.putOutputKey("y", "k1");
    writer.write(batch(r), List.of(tensor(true)), sink());
    assertEquals(List.of(output.address()), kept);
    assertEquals(1, stream.synchronizations);
    assertTrue(written.isEmpty());
  }

  @Test
  void aGraphsOutputCopiedBackBeforeItsComputeEndsIsWrittenWithoutASynchronisationOfItsOwn() {
    RequestData r = request();
    output.put(0, new byte[] {7, 8, 9});
    Batch batch = batch(r);
    List<OutputTensor> copied = writer.copyBack(batch, List.of(tensor(true)));
    assertFalse(copied.get(0).onDevice());
    assertNotEquals(output.address(), copied.get(0).address(), "read from the pinned copy");
    assertEquals(0, stream.synchronizations, "the run's own synchronisation waits for the copy");
    byte[] head = new byte[3];
    HostBytes.get(copied.get(0).address(), head);
    assertArrayEquals(new byte[] {7, 8, 9}, head);
    writer.write(batch, copied, sink());
    assertEquals(0, stream.synchronizations);
    assertEquals(List.of(copied.get(0).address()), written);
  }

  @Test
  void copyBackLeavesABatchThatKeepsOutputsAndOutputsNoRequestAskedForOnTheDevice() {
    RequestData keeps = request();
    keeps.putOutputKey("y", "k1");
    List<OutputTensor> device = List.of(tensor(true));
    assertEquals(device, writer.copyBack(batch(keeps), device));
    RequestData none = request();
    none.requestedOutputs = List.of();
    assertEquals(device, writer.copyBack(batch(none), device));
    writer.write(batch(keeps), device, sink());
    assertEquals(List.of(output.address()), kept);
    assertEquals(1, stream.synchronizations);
  }

  private ResponseSink sink() {
    return (r, name, type, shape, src, byteSize) -> written.add(src);
  }

  private OutputTensor tensor(boolean onDevice) {
    return tensor(onDevice, 1);
  }

  private OutputTensor tensor(boolean onDevice, int rows) {
    output.ensureCapacity(rows * BYTES);
    return new OutputTensor("y", DataType.FP32, output.address(), rows * BYTES,
        new long[] {rows, 4}, onDevice);
  }

  private static RequestData request() {
    RequestData r = new RequestData(0);
    r.requestedOutputs = List.of("y");
    return r;
  }

  private static Batch batch(RequestData... requests) {
    List<ResolvedRequest> group = new ArrayList<>();
    for (RequestData r : requests) {
      group.add(new ResolvedRequest(r, Map.of()));
    }
    long[] rows = new long[requests.length];
    Arrays.fill(rows, 1);
    return new Batch(group, new BatchLayout(rows), List.of(new long[] {requests.length, 4}),
        List.of("y"));
  }

  private static ModelConfig config() {
    try {
      return ModelConfig.parse("{\"name\":\"m\",\"max_batch_size\":8,\"input\":[{\"name\":\"x\","
          + "\"data_type\":\"TYPE_FP32\",\"dims\":[\"4\"]}],\"output\":[{\"name\":\"y\","
          + "\"data_type\":\"TYPE_FP32\",\"dims\":[\"4\"]}]}");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A host stream that counts its synchronisations. */
  private static final class CountingStream implements Stream {
    int synchronizations;

    @Override
    public long handle() {
      return 0;
    }

    @Override
    public void synchronize() {
      synchronizations++;
    }

    @Override
    public void close() {}
  }
}
