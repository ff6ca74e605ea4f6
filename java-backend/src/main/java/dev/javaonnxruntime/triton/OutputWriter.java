package dev.javaonnxruntime.triton;

import dev.javaonnxruntime.batch.BatchLayout;
import dev.javaonnxruntime.config.ModelConfig;
import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.cuda.DeviceMemory;
import dev.javaonnxruntime.cuda.StagingBuffer;
import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.lifecycle.Closer;
import dev.javaonnxruntime.onnx.OutputTensor;
import java.util.Arrays;
import java.util.List;

/**
 * Splits the outputs of one batch back to its requests: each request's rows of each output it
 * asked for go into its response, and each output it named with {@code output_cache_key.<output>}
 * stays in the cache under that key (a device-to-device copy; it is not copied back unless the
 * request also asked for it). On a GPU only the outputs some request asked for cross to the host,
 * through the instance's pinned buffer on its stream, synchronised once per batch.
 *
 * <p>Ownership: owns the pinned output buffer (closed with the instance); the outputs it reads are
 * views valid for the call. Used only on the instance's execute thread.
 */
final class OutputWriter implements AutoCloseable {
  private final String model;
  private final ModelConfig config;
  private final DeviceMemory memory;
  private final Stream stream;
  private final InputStager stager;
  private final Responder responder;
  private final StagingBuffer staging;

  OutputWriter(String model, ModelConfig config, DeviceMemory memory, Stream stream,
      InputStager stager, boolean gpu) {
    this.model = model;
    this.config = config;
    this.memory = memory;
    this.stream = stream;
    this.stager = stager;
    this.responder = new Responder(config.outputs().stream().map(TensorConfig::name).toList());
    this.staging = gpu ? memory.newStagingBuffer(1 << 20) : null;
  }

  Responder responder() {
    return responder;
  }

  /** Writes and keeps each request's slices of {@code results} (the run's outputs). */
  void scatter(List<RequestData> group, BatchLayout layout, List<OutputTensor> results) {
    for (OutputTensor o : results) {
      if (config.batched() && (o.shape().length == 0 || o.shape()[0] != layout.totalRows())) {
        throw new TritonException(TritonException.INTERNAL, "model '" + model + "' output '"
            + o.name() + "' has shape " + Arrays.toString(o.shape()) + ", expected "
            + layout.totalRows() + " rows");
      }
    }
    long[] host = new long[results.size()];
    if (staging != null) {
      long total = 0;
      for (OutputTensor o : results) {
        total += requested(group, o.name()) ? o.byteSize() : 0;
      }
      long offset = staging.ensureCapacity(Math.max(total, 1));
      for (int i = 0; i < results.size(); i++) {
        OutputTensor o = results.get(i);
        if (requested(group, o.name())) {
          host[i] = offset;
          memory.copyDeviceToHost(host[i], o.address(), o.byteSize(), stream);
          offset += o.byteSize();
        }
      }
    } else {
      for (int i = 0; i < results.size(); i++) {
        host[i] = results.get(i).address();
      }
    }
    keep(group, layout, results);
    if (staging != null) {
      // The one synchronisation of this batch: inputs consumed, outputs on the host and kept.
      stream.synchronize();
    }
    for (int i = 0; i < results.size(); i++) {
      OutputTensor o = results.get(i);
      for (int k = 0; k < group.size(); k++) {
        RequestData r = group.get(k);
        if (r.failed() || !r.requestedOutputs.contains(o.name())) {
          continue;
        }
        try {
          long[] slice = slice(layout, k, o);
          responder.writeOutput(r, o.name(), o.dataType(), shape(layout, k, o), host[i] + slice[0], slice[1]);
        } catch (RuntimeException e) {
          r.fail(Errors.asTriton(e));
        }
      }
    }
  }

  /** Stores the slices the requests named with {@code output_cache_key.<output>}. */
  private void keep(List<RequestData> group, BatchLayout layout, List<OutputTensor> results) {
    for (int k = 0; k < group.size(); k++) {
      RequestData r = group.get(k);
      if (r.failed() || r.outputKeys.isEmpty()) {
        continue;
      }
      for (OutputTensor o : results) {
        String key = r.outputKeys.get(o.name());
        if (key == null) {
          continue;
        }
        try {
          long[] slice = slice(layout, k, o);
          stager.keepOutput(o.name(), key, o.dataType(), shape(layout, k, o), o.address() + slice[0], slice[1]);
        } catch (Exception e) {
          r.fail(Errors.asTriton(e));
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

  private static boolean requested(List<RequestData> group, String output) {
    for (RequestData r : group) {
      if (!r.failed() && r.requestedOutputs.contains(output)) {
        return true;
      }
    }
    return false;
  }

  /** Closes the responder and the pinned buffer, the buffer even when the responder fails. */
  @Override
  public void close() {
    Closer closer = new Closer("writer.close");
    closer.close("responder", responder);
    closer.close("staging", staging);
    closer.finish();
  }
}
