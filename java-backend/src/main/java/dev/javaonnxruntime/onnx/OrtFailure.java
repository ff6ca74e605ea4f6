package dev.javaonnxruntime.onnx;

/** ONNX Runtime refused a session or a run; the message is ORT's own. */
public class OrtFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public OrtFailure(String message, Throwable cause) {
    super(message, cause);
  }
}
