package dev.javaonnxruntime.resolve;

import dev.javaonnxruntime.read.RequestData;
import dev.javaonnxruntime.read.TritonException;
import java.util.Map;

/**
 * A checked request whose every configured input has been found ({@link InputSource}, in config
 * order) and whose rows are known ({@code request.batch}, which resolving may correct from a
 * cached tensor's shape): what the batch step groups. Made by {@link InputStager} for one Execute;
 * its request's outcome stays mutable (a later step may still fail it).
 *
 * @param request what the read step found
 * @param sources where each input's bytes are, by input name
 */
public record ResolvedRequest(RequestData request, Map<String, InputSource> sources) {
  /** The request's rows in its batch (1 for a model without a batch dimension). */
  public long rows() {
    return request.batch;
  }

  /** The source of input {@code name}. */
  public InputSource source(String name) {
    return sources.get(name);
  }

  /** Whether the request has failed. */
  public boolean failed() {
    return request.failed();
  }

  /** Fails the request with {@code e}, unless it failed before. */
  public void fail(TritonException e) {
    request.fail(e);
  }
}
