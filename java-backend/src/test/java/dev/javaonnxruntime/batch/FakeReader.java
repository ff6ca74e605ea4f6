package dev.javaonnxruntime.batch;

import dev.javaonnxruntime.cuda.DeviceReader;
import dev.javaonnxruntime.triton.Handles;
import org.bytedeco.javacpp.Pointer;

/** A device reader over host memory: counts its copies. */
final class FakeReader implements DeviceReader {
  int copies;
  int lastDevice = -1;
  boolean closed;

  @Override
  public void copyToHost(long dst, long src, int device, long bytes) {
    copies++;
    lastDevice = device;
    Pointer.memcpy(Handles.at(dst), Handles.at(src), bytes);
  }

  @Override
  public void close() {
    closed = true;
  }
}
