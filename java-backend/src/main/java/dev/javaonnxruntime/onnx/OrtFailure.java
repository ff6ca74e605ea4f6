package dev.javaonnxruntime.onnx;

import static org.bytedeco.onnxruntime.global.onnxruntime.GetApi;

import org.bytedeco.onnxruntime.OrtApi;
import org.bytedeco.onnxruntime.OrtStatus;

/** ONNX Runtime refused a session or a run; the message is ORT's own. */
public class OrtFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private static final OrtApi API = GetApi();

  public OrtFailure(String message, Throwable cause) {
    super(message, cause);
  }

  /** A failed status's message; the status is released. */
  static String release(OrtStatus status) {
    String message = API.GetErrorMessage().call(status).getString();
    API.ReleaseStatus(status);
    return message;
  }
}
