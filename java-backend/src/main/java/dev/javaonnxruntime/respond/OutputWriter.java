package dev.javaonnxruntime.respond;

import static dev.javaonnxruntime.read.Failures.asTriton;

import dev.javaonnxruntime.batch.Batch;
import dev.javaonnxruntime.batch.BatchLayout;
import dev.javaonnxruntime.config.ModelConfig;
import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.cuda.StagingBuffer;
import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.onnx.OutputTensor;
import dev.javaonnxruntime.read.RequestData;
import dev.javaonnxruntime.read.TritonException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The respond step: splits the outputs of one batch back to its requests. Each request's rows of
 * each output it asked for go into its response ({@link ResponseSink}), and each output it named
 * with {@code output_cache_key.<output>} is kept under that key ({@link KeptOutputs}; it is not
 * copied back unless the request also asked for it). On a GPU, outputs left on the device (by a
 * batch that keeps some, or a graph) cross to the host where some request asked for them, through
 * the instance's pinned buffer on its stream: a graph's right after its replay ({@link
 * #copyBack}), a keeping batch's here, synchronised once. Those ORT copied to host memory in its
 * run are written from there.
 *
 * <p>Ownership: owns the pinned output buffer (closed with the instance); the outputs it reads are
 * views valid for the call. Used only on the instance's execute thread.
 */
public final class OutputWriter implements AutoCloseable {
  private final String model;
  private final ModelConfig config;
  private final DeviceMemory memory;
  private final Stream stream;
  private final KeptOutputs kept;
  private final StagingBuffer staging;

  /** Writes the outputs of the model of {@code config}, computed in {@code memory} ({@code gpu}). */
  public OutputWriter(String model, ModelConfig config, DeviceMemory memory, Stream stream,
      KeptOutputs kept, boolean gpu) {
    this.model = model;
    this.config = config;
    this.memory = memory;
    this.stream = stream;
    this.kept = kept;
    this.staging = gpu ? memory.newStagingBuffer(1 << 20) : null;
  }

  /**
   * Enqueues, on the instance stream, the copy to the pinned buffer of each output of {@code
   * results} that is on the device and that a request of the batch asked for, and returns the
   * outputs with those at their host copies; a CPU instance's outputs, and every output of a batch
   * that keeps some (they must stay on the device), come back as they are. Called right after a
   * CUDA graph's launch, before the synchronisation that ends its compute: the copies then run
   * behind its last kernel, as ORT's own copies back run inside an eager run, and {@link #write}
   * needs no synchronisation of its own. The host copies are valid until the next batch's call.
   */
  public List<OutputTensor> copyBack(Batch batch, List<OutputTensor> results) {
    return staging == null || !batch.keepsNothing() ? results : toHost(batch, results);
  }

  /** Writes into {@code sink} and keeps each request's slices of {@code results} (the run's). */
  public void write(Batch batch, List<OutputTensor> results, ResponseSink sink) {
    BatchLayout layout = batch.layout();
    for (OutputTensor o : results) {
      if (config.batched() && (o.shape().length == 0 || o.shape()[0] != layout.totalRows())) {
        throw new TritonException(TritonException.INTERNAL, "model '" + model + "' output '"
            + o.name() + "' has shape " + Arrays.toString(o.shape()) + ", expected "
            + layout.totalRows() + " rows");
      }
    }
    List<OutputTensor> host = staging == null ? results : toHost(batch, results);
    keep(batch, results);
    if (host != results || (staging != null && !batch.keepsNothing())) {
      // The one synchronisation of this batch: inputs consumed, outputs on the host and kept.
      stream.synchronize();
    }
    for (OutputTensor o : host) {
      for (int k = 0; k < batch.size(); k++) {
        RequestData r = batch.requests().get(k).request();
        if (r.failed() || !r.requestedOutputs.contains(o.name())) {
          continue;
        }
        try {
          long[] slice = slice(layout, k, o);
          sink.writeOutput(r, o.name(), o.dataType(), shape(layout, k, o), o.address() + slice[0],
              slice[1]);
        } catch (RuntimeException e) {
          r.fail(asTriton(e));
        }
      }
    }
  }

  /**
   * Enqueues the copy to the pinned buffer of each output of {@code results} on the device that a
   * request asked for, and returns the outputs with those at their copies; returns {@code results}
   * itself where there is none.
   */
  private List<OutputTensor> toHost(Batch batch, List<OutputTensor> results) {
    long total = 0;
    for (OutputTensor o : results) {
      total += o.onDevice() && requested(batch, o.name()) ? o.byteSize() : 0;
    }
    if (total == 0) {
      return results;
    }
    long offset = staging.ensureCapacity(total);
    List<OutputTensor> out = new ArrayList<>(results.size());
    for (OutputTensor o : results) {
      if (o.onDevice() && requested(batch, o.name())) {
        memory.copyDeviceToHost(offset, o.address(), o.byteSize(), stream);
        out.add(new OutputTensor(o.name(), o.dataType(), offset, o.byteSize(), o.shape(), false));
        offset += o.byteSize();
      } else {
        out.add(o);
      }
    }
    return out;
  }

  /** Keeps the slices the requests named with {@code output_cache_key.<output>}. */
  private void keep(Batch batch, List<OutputTensor> results) {
    for (int k = 0; k < batch.size(); k++) {
      RequestData r = batch.requests().get(k).request();
      if (r.failed() || r.outputKeys().isEmpty()) {
        continue;
      }
      for (OutputTensor o : results) {
        String key = r.outputKeys().get(o.name());
        if (key == null) {
          continue;
        }
        try {
          if (staging != null && !o.onDevice()) { // a GPU instance keeps device memory only
            throw new IllegalStateException("output '" + o.name() + "' to keep is not on the device");
          }
          long[] slice = slice(batch.layout(), k, o);
          kept.keep(o.name(), key, o.dataType(), shape(batch.layout(), k, o), o.address() + slice[0], slice[1]);
        } catch (Exception e) {
          r.fail(asTriton(e));
        }
      }
    }
  }

  private long[] slice(BatchLayout layout, int k, OutputTensor o) {
    return config.batched() ? layout.slice(k, o.byteSize()) : new long[] {0, o.byteSize()};
  }

  private long[] shape(BatchLayout layout, int k, OutputTensor o) {
    return config.batched() ? layout.sliceShape(k, o.shape()) : o.shape();
  }

  private static boolean requested(Batch batch, String output) {
    for (int k = 0; k < batch.size(); k++) {
      RequestData r = batch.requests().get(k).request();
      if (!r.failed() && r.requestedOutputs.contains(output)) {
        return true;
      }
    }
    return false;
  }

  /** Closes the pinned buffer. */
  @Override
  public void close() {
    if (staging != null) {
      staging.close();
    }
  }
}
