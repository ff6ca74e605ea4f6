package dev.javaonnxruntime.config;

import java.util.Locale;

/**
 * Triton's tensor data types, with their three spellings: the C API enum value
 * ({@code TRITONSERVER_DataType}), the model config name ({@code TYPE_FP32}) and the protocol
 * name ({@code FP32}). The numbering is the same in the C API and the config protobuf.
 */
public enum DataType {
  INVALID(0, 0),
  BOOL(1, 1),
  UINT8(2, 1),
  UINT16(3, 2),
  UINT32(4, 4),
  UINT64(5, 8),
  INT8(6, 1),
  INT16(7, 2),
  INT32(8, 4),
  INT64(9, 8),
  FP16(10, 2),
  FP32(11, 4),
  FP64(12, 8),
  BYTES(13, 0),
  BF16(14, 2);

  private static final DataType[] BY_API = values();

  private final int apiValue;
  private final int byteSize;

  DataType(int apiValue, int byteSize) {
    this.apiValue = apiValue;
    this.byteSize = byteSize;
  }

  /** The {@code TRITONSERVER_DataType} value. */
  public int apiValue() {
    return apiValue;
  }

  /** Bytes per element; 0 for BYTES, whose elements have no fixed size. */
  public int byteSize() {
    return byteSize;
  }

  /** The protocol name Triton prints ({@code FP32}, {@code BYTES}). */
  public String apiName() {
    return name();
  }

  /** The model configuration name ({@code TYPE_FP32}; BYTES is {@code TYPE_STRING}). */
  public String configName() {
    return this == BYTES ? "TYPE_STRING" : "TYPE_" + name();
  }

  public static DataType fromApi(int value) {
    return value > 0 && value < BY_API.length ? BY_API[value] : INVALID;
  }

  /** Parses a config name such as {@code TYPE_FP32}; unknown names are {@link #INVALID}. */
  public static DataType fromConfig(String name) {
    if ("TYPE_STRING".equals(name)) {
      return BYTES;
    }
    if (name == null || !name.startsWith("TYPE_")) {
      return INVALID;
    }
    try {
      return valueOf(name.substring(5).toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return INVALID;
    }
  }
}
