package dev.javaonnxruntime.triton;

import dev.javaonnxruntime.triton.api.TRITONBACKEND_Request;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_Response;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one request of an Execute needs: its Triton handles, its inputs (views), the cache keys its
 * client named, the outputs it asked for, and its error once it has failed. Lives for one Execute
 * on the instance thread; {@link #response} goes null once the response is sent.
 */
final class RequestData {
  final TRITONBACKEND_Request request;
  TRITONBACKEND_Response response;
  final Map<String, InputView> inputs = new LinkedHashMap<>();
  /** Input name to the key named by the request parameter {@code input_cache_key.<input>}. */
  final Map<String, String> cacheKeys = new LinkedHashMap<>();
  /** Output name to the key named by {@code output_cache_key.<output>}: kept resident under it. */
  final Map<String, String> outputKeys = new LinkedHashMap<>();
  List<String> requestedOutputs = List.of();
  /** Where each input's bytes are for this run: Triton's buffers, or the instance's memory. */
  final Map<String, Source> sources = new LinkedHashMap<>();
  long batch = 1;
  TritonException error;

  RequestData(TRITONBACKEND_Request request) {
    this.request = request;
  }

  /**
   * One resolved input: either Triton's buffers ({@code view} set, wherever they are, with the
   * {@code route} that brings them to the instance) or one block of the instance's own memory
   * ({@code device}: a cache entry).
   */
  record Source(long[] shape, long byteSize, InputView view, InputPlacement.Route route, long device) {
    /** Triton's buffers of {@code v}, taken by {@code route}. */
    static Source of(InputView v, InputPlacement.Route route) {
      return new Source(v.shape(), v.byteSize(), v, route, 0);
    }

    /** A block of the instance's memory at {@code address} (a cache entry). */
    static Source resident(long[] shape, long byteSize, long address) {
      return new Source(shape, byteSize, null, null, address);
    }
  }

  boolean failed() {
    return error != null;
  }

  /** Records the first failure of this request; later ones are consequences of it. */
  void fail(TritonException e) {
    if (error == null) {
      error = e;
    }
  }
}
