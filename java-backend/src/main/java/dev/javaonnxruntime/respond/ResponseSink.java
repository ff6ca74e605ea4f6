package dev.javaonnxruntime.respond;

import dev.javaonnxruntime.config.DataType;
import dev.javaonnxruntime.read.RequestData;

/**
 * Where the respond step writes a request's outputs: its response, which the boundary owns
 * ({@code triton.OwnedRequests}, through {@code triton.Responder}). A port, so this package knows
 * no Triton handle. Used on the instance's thread during one Execute.
 */
public interface ResponseSink {
  /**
   * Adds output {@code name} of {@code shape} to request {@code r}'s response and copies {@code
   * byteSize} bytes from host address {@code src} into it. Throws when Triton refuses.
   */
  void writeOutput(RequestData r, String name, DataType type, long[] shape, long src, long byteSize);
}
