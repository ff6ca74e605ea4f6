package dev.javaonnxruntime.read;

/**
 * A failure with the Triton error code it should be reported with ({@code
 * TRITONSERVER_Error_Code}): raised by our code for a request or a load that cannot go on, and for
 * a Triton API call that returned an error.
 */
public class TritonException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public static final int UNKNOWN = 0;
  public static final int INTERNAL = 1;
  public static final int NOT_FOUND = 2;
  public static final int INVALID_ARG = 3;
  public static final int UNAVAILABLE = 4;
  public static final int UNSUPPORTED = 5;
  public static final int ALREADY_EXISTS = 6;

  private final int code;

  public TritonException(int code, String message) {
    super(message);
    this.code = code;
  }

  public TritonException(int code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public int code() {
    return code;
  }
}
