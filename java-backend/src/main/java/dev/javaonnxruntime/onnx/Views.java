package dev.javaonnxruntime.onnx;

import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.onnxruntime.OrtValue;

/**
 * Reusable views of addresses ORT hands out or takes, for a run's hot path: each is one Java
 * object, re-aimed with {@code at}, so a run makes no JavaCPP object per tensor. A view owns
 * nothing and frees nothing; what it points at is released through ORT's API by its owner.
 */
final class Views {
  private Views() {}

  /** An {@code OrtValue*}. */
  static final class Value extends OrtValue {
    Value at(long address) {
      this.address = address;
      return this;
    }
  }

  /** {@code count} {@code int64_t}s at an address ORT owns: a tensor's shape. */
  static final class Longs extends LongPointer {
    Longs at(long address, long count) {
      this.address = address;
      this.position = 0;
      this.limit = count;
      this.capacity = count;
      return this;
    }
  }

  /** Any address: a caller's buffer. */
  static final class Address extends Pointer {
    Address at(long address) {
      this.address = address;
      return this;
    }
  }
}
