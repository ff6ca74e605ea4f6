package dev.javaonnxruntime.triton.execute;

import static dev.javaonnxruntime.triton.api.global.TritonApiLib.*;

import dev.javaonnxruntime.config.DataType;
import dev.javaonnxruntime.lifecycle.Closer;
import dev.javaonnxruntime.read.TritonException;
import dev.javaonnxruntime.triton.Errors;
import dev.javaonnxruntime.triton.Handles;
import dev.javaonnxruntime.triton.Log;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_Output;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_Request;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_Response;
import dev.javaonnxruntime.triton.api.TRITONSERVER_Error;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The respond step at the boundary: creates a request's response, writes outputs into it and
 * sends it. Out-parameters are allocated
 * once and reused, so an Execute allocates no native memory here (a shape of rank above 16 takes
 * a buffer of its own, freed before the call returns). Owned by one instance, used only on its
 * execute thread; closed with it.
 *
 * <p>Ownership rules it follows: a sent response belongs to Triton (the slot is cleared); the
 * error passed to {@code TRITONBACKEND_ResponseSend} stays ours and is deleted after the send.
 */
final class Responder implements AutoCloseable {
  private final IntPointer memoryType = new IntPointer(1);
  private final LongPointer memoryTypeId = new LongPointer(1);
  private final LongPointer shapeBuffer = new LongPointer(16);
  private final Map<String, BytePointer> names = new HashMap<>();
  /** Views Triton's calls fill in place ({@code @ByPtrPtr}): no JavaCPP object per output. */
  private final TRITONBACKEND_Output output = new TRITONBACKEND_Output();
  private final Pointer buffer = new Pointer();
  private final Handles.View source = Handles.reusable();

  /** Output names are made once, here: writes happen inside a run's PointerScope. */
  Responder(List<String> outputNames) {
    for (String n : outputNames) {
      names.put(n, new BytePointer(n));
    }
  }

  private BytePointer name(String name) {
    BytePointer p = names.get(name);
    if (p == null) {
      throw new TritonException(TritonException.INTERNAL, "output '" + name + "' is not configured");
    }
    return p;
  }

  /**
   * Adds output {@code name} of {@code shape} to {@code response} and copies {@code byteSize}
   * bytes from host address {@code src} into Triton's buffer for it.
   */
  void writeOutput(TRITONBACKEND_Response response, String name, DataType type, long[] shape,
      long src, long byteSize) {
    if (shape.length > shapeBuffer.capacity()) {
      try (LongPointer dims = new LongPointer(shape)) { // rare: a rank above 16, freed here
        addOutput(response, name, type, dims, shape.length, src, byteSize);
      }
      return;
    }
    shapeBuffer.put(shape, 0, shape.length);
    addOutput(response, name, type, shapeBuffer, shape.length, src, byteSize);
  }

  private void addOutput(TRITONBACKEND_Response response, String name, DataType type,
      LongPointer dims, int rank, long src, long byteSize) {
    Errors.check(TRITONBACKEND_ResponseOutput(response, output, name(name), type.apiValue(), dims, rank),
        "TRITONBACKEND_ResponseOutput");
    memoryType.put(TRITONSERVER_MEMORY_CPU);
    memoryTypeId.put(0);
    Errors.check(TRITONBACKEND_OutputBuffer(output, buffer, byteSize, memoryType, memoryTypeId),
        "TRITONBACKEND_OutputBuffer");
    if (memoryType.get() == TRITONSERVER_MEMORY_GPU) {
      throw new TritonException(TritonException.UNSUPPORTED,
          "output '" + name + "': Triton offered a GPU buffer; java_onnxruntime writes host buffers");
    }
    if (byteSize > 0) {
      Pointer.memcpy(buffer, source.at(src), byteSize);
    }
  }

  /**
   * Creates the request's response ({@code TRITONBACKEND_ResponseNew}); the response is ours until
   * it is sent. Throws when Triton refuses.
   */
  TRITONBACKEND_Response open(TRITONBACKEND_Request request) {
    TRITONBACKEND_Response response = new TRITONBACKEND_Response();
    Errors.check(TRITONBACKEND_ResponseNew(response, request), "TRITONBACKEND_ResponseNew");
    return response;
  }

  /**
   * Sends the response in {@code responses[i]} FINAL, with {@code failure} if the request failed
   * (null: it did not); returns whether it went with outputs and no error. Once {@code
   * TRITONBACKEND_ResponseSend} is called the response is Triton's whatever it returns (a failed
   * send is logged), and the slot is null; it throws only before that call, while the response is
   * still ours to send.
   */
  boolean send(TRITONBACKEND_Response[] responses, int i, TritonException failure) {
    TRITONSERVER_Error error = failure != null ? Errors.toTriton(failure) : null;
    TRITONSERVER_Error sendError;
    try {
      sendError = TRITONBACKEND_ResponseSend(responses[i], TRITONSERVER_RESPONSE_COMPLETE_FINAL, error);
      responses[i] = null;
    } finally {
      if (error != null) {
        TRITONSERVER_ErrorDelete(error);
      }
    }
    String failed = Errors.checkQuietly(sendError);
    if (failed != null) {
      Log.error("failed to send a response: " + failed);
      return false;
    }
    return failure == null;
  }

  /** Frees the out-parameters and names, each even when another fails. */
  @Override
  public void close() {
    Closer closer = new Closer("responder.close");
    closer.close("memory-type", memoryType);
    closer.close("memory-type-id", memoryTypeId);
    closer.close("shape", shapeBuffer);
    names.values().forEach(n -> closer.close("name", n));
    closer.finish();
  }
}
