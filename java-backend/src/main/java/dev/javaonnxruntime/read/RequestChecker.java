package dev.javaonnxruntime.read;

import dev.javaonnxruntime.config.DataType;
import dev.javaonnxruntime.config.ModelConfig;
import dev.javaonnxruntime.config.TensorConfig;
import java.util.Arrays;

/**
 * Checks one request against the model configuration before any of its bytes are used. Triton's
 * front end rejects most malformed requests already, but not all (a required input may be missing
 * when an optional one is present; the byte size of an input is not checked against its shape),
 * and a backend must not trust what it is handed. Stateless and thread-safe.
 */
public final class RequestChecker {
  private final ModelConfig config;

  /** The checker of requests for the model of {@code config}. */
  public RequestChecker(ModelConfig config) {
    this.config = config;
  }

  /** Throws a {@link TritonException} naming what is wrong; sets the request's batch size. */
  public void check(RequestData r) {
    for (String name : r.inputs.keySet()) {
      if (config.input(name) == null) {
        throw invalid("unexpected inference input '" + name + "' for model '" + config.name() + "'");
      }
    }
    for (String name : r.cacheKeys().keySet()) {
      if (config.input(name) == null) {
        throw invalid("request parameter '" + KeyParameters.KEY_PREFIX + name
            + "' names an input that model '" + config.name() + "' does not have");
      }
    }
    for (String name : r.outputKeys().keySet()) {
      if (!hasOutput(name)) {
        throw invalid("request parameter '" + KeyParameters.OUTPUT_KEY_PREFIX + name
            + "' names an output that model '" + config.name() + "' does not have");
      }
    }
    for (String name : r.requestedOutputs) {
      if (!hasOutput(name)) {
        throw invalid("unexpected inference output '" + name + "' for model '" + config.name() + "'");
      }
    }
    long batch = -1;
    for (TensorConfig c : config.inputs()) {
      InputView v = r.inputs.get(c.name());
      if (v == null) {
        if (!r.cacheKeys().containsKey(c.name())) {
          throw invalid("request for model '" + config.name() + "' is missing input '" + c.name()
              + "': send its data" + (c.optional() ? ", or name a cached tensor with the request "
              + "parameter '" + KeyParameters.KEY_PREFIX + c.name() + "'" : ""));
        }
        continue;
      }
      checkInput(c, v);
      if (config.batched()) {
        if (batch != -1 && v.shape()[0] != batch) {
          throw invalid("inputs of one request must share the batch size: input '" + c.name()
              + "' has " + v.shape()[0] + ", another input has " + batch);
        }
        batch = v.shape()[0];
      }
    }
    if (config.batched() && batch != -1 && (batch < 1 || batch > config.maxBatchSize())) {
      throw invalid("inference request batch-size must be <= " + config.maxBatchSize()
          + " for '" + config.name() + "', got " + batch);
    }
    r.batch = batch == -1 ? 1 : batch;
  }

  // Loops, not streams: this runs for every request.
  private boolean hasOutput(String name) {
    for (TensorConfig o : config.outputs()) {
      if (o.name().equals(name)) {
        return true;
      }
    }
    return false;
  }

  private static boolean hasNegative(long[] shape) {
    for (long d : shape) {
      if (d < 0) {
        return true;
      }
    }
    return false;
  }

  private void checkInput(TensorConfig c, InputView v) {
    if (v.dataType() == DataType.BYTES || c.dataType() == DataType.BYTES) {
      throw new TritonException(TritonException.UNSUPPORTED,
          "input '" + c.name() + "': BYTES (TYPE_STRING) tensors are not supported yet");
    }
    if (v.dataType() != c.dataType()) {
      throw invalid("inference input '" + c.name() + "' data-type is '" + v.dataType().apiName()
          + "', but model '" + config.name() + "' expects '" + c.dataType().apiName() + "'");
    }
    if (!c.accepts(v.shape(), config.batched()) || hasNegative(v.shape())) {
      throw invalid("unexpected shape for input '" + c.name() + "' for model '" + config.name()
          + "'. Expected " + c.describeShape(config.batched()) + ", got "
          + Arrays.toString(v.shape()).replace(" ", ""));
    }
    long expected = expectedBytes(v.shape(), c.dataType(), c.name());
    if (v.byteSize() != expected) {
      throw invalid("input '" + c.name() + "' holds " + v.byteSize() + " bytes, but shape "
          + Arrays.toString(v.shape()).replace(" ", "") + " of " + c.dataType().apiName()
          + " needs " + expected);
    }
    long sum = 0;
    for (long size : v.sizes()) {
      sum += size;
    }
    if (sum != v.byteSize()) {
      throw invalid("input '" + c.name() + "' declares " + v.byteSize() + " bytes but its "
          + v.sizes().length + " buffers hold " + sum);
    }
  }

  private static long expectedBytes(long[] shape, DataType type, String name) {
    try {
      long n = type.byteSize();
      for (long d : shape) {
        n = Math.multiplyExact(n, d);
      }
      return n;
    } catch (ArithmeticException e) {
      throw invalid("input '" + name + "': shape " + Arrays.toString(shape) + " is too large");
    }
  }

  private static TritonException invalid(String message) {
    return new TritonException(TritonException.INVALID_ARG, message);
  }
}
