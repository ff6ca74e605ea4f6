package dev.javaonnxruntime.onnx;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** One ONNX Runtime environment per test class and the example model the session tests open. */
abstract class OrtTestSupport {
  /** two_input: image [N,3,224,224] and bias [N,4] in, out [N,4]; made by {@code make models}. */
  static final Path MODEL = Path.of("..", "model_repository", "two_input", "1", "model.onnx");
  static OrtRuntime ort;

  @BeforeAll
  static void start() {
    ort = OrtRuntime.create();
  }

  @AfterAll
  static void stop() {
    ort.close();
  }
}
