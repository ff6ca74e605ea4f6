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
  /** Where each input's bytes are for this run: Triton's buffers, or device memory. */
  final Map<String, Source> sources = new LinkedHashMap<>();
  long batch = 1;
  TritonException error;

  RequestData(TRITONBACKEND_Request request) {
    this.request = request;
  }

  /**
   * One resolved input: either Triton's host buffers ({@code host} set) or one block of the
   * instance's device memory ({@code device}: a cache entry, or an input Triton holds on the GPU).
   */
  record Source(long[] shape, long byteSize, InputView host, long device) {}

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
