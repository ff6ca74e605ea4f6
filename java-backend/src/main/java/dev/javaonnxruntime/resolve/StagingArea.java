package dev.javaonnxruntime.resolve;

import dev.javaonnxruntime.cuda.StagingBuffer;
import dev.javaonnxruntime.cuda.Stream;
import dev.javaonnxruntime.read.InputView;
import dev.javaonnxruntime.read.RequestData;
import java.util.List;

/**
 * A GPU instance's pinned staging space for host inputs, handed out by a bump pointer that each
 * Execute resets: a region may still be read by a copy enqueued on the instance's stream until
 * that stream is synchronised. Owns the buffer; used only on the instance's thread.
 */
final class StagingArea implements AutoCloseable {
  private final StagingBuffer buffer;
  private final Stream stream;
  private long used;

  StagingArea(StagingBuffer buffer, Stream stream) {
    this.buffer = buffer;
    this.stream = stream;
  }

  /** Sizes the buffer for every input of this Execute's requests. */
  void begin(List<RequestData> requests) {
    used = 0;
    long total = 0;
    for (RequestData r : requests) {
      for (InputView v : r.inputs.values()) {
        total += v.byteSize();
      }
    }
    buffer.ensureCapacity(Math.max(total, 1));
  }

  /**
   * {@code bytes} of this Execute's space, not handed out before. {@link #begin} sized it for
   * every input once; an input staged again (a batch ONNX Runtime refused, run again request by
   * request) waits for the copies already enqueued from it, then starts over.
   */
  long stage(long bytes) {
    if (used + bytes > buffer.capacity() && bytes <= buffer.capacity()) {
      stream.synchronize();
      used = 0;
    }
    if (used + bytes > buffer.capacity()) {
      throw new IllegalStateException("staging buffer overrun: " + (used + bytes) + " > "
          + buffer.capacity());
    }
    long region = buffer.address() + used;
    used += bytes;
    return region;
  }

  /** After the stream has been synchronised: nothing reads the space any more. */
  void reset() {
    used = 0;
  }

  @Override
  public void close() {
    buffer.close();
  }
}
