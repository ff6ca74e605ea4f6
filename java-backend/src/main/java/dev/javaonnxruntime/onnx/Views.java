package dev.javaonnxruntime.onnx;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.onnxruntime.OrtTensorTypeAndShapeInfo;
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

  /** An {@code OrtTensorTypeAndShapeInfo*}. */
  static final class Info extends OrtTensorTypeAndShapeInfo {
    Info at(long address) {
      this.address = address;
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
