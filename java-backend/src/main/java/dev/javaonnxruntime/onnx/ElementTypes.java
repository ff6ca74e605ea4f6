package dev.javaonnxruntime.onnx;

import static org.bytedeco.onnxruntime.global.onnxruntime.*;

import dev.javaonnxruntime.config.DataType;

/** Maps Triton data types to ONNX tensor element types and back. */
public final class ElementTypes {
  private ElementTypes() {}

  /** The ONNX element type of a Triton data type; UNDEFINED for BYTES and INVALID. */
  public static int toOnnx(DataType type) {
    return switch (type) {
      case BOOL -> ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL;
      case UINT8 -> ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8;
      case UINT16 -> ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16;
      case UINT32 -> ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32;
      case UINT64 -> ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64;
      case INT8 -> ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8;
      case INT16 -> ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16;
      case INT32 -> ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
      case INT64 -> ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
      case FP16 -> ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
      case FP32 -> ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
      case FP64 -> ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE;
      case BF16 -> ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16;
      case BYTES -> ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING;
      default -> ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
    };
  }

  /** The Triton data type of an ONNX element type; INVALID when Triton has none. */
  public static DataType fromOnnx(int onnxType) {
    for (DataType t : DataType.values()) {
      if (t != DataType.INVALID && toOnnx(t) == onnxType) {
        return t;
      }
    }
    return DataType.INVALID;
  }
}
