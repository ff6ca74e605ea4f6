package dev.javaonnxruntime.triton;

import static dev.javaonnxruntime.triton.api.global.TritonApiLib.*;

import dev.javaonnxruntime.read.TritonException;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_Backend;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_Model;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_ModelInstance;
import dev.javaonnxruntime.triton.api.TRITONSERVER_Message;
import org.bytedeco.javacpp.BoolPointer;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * The Triton API calls made at load and unload time (names, configs, kinds), each returning a Java
 * value and failing with a {@link TritonException}. Temporaries live in a scope per call; the hot
 * path does not use this class (see {@link RequestReader}). Thread-safe.
 */
final class TritonCalls {
  private TritonCalls() {}

  static String backendConfigJson(TRITONBACKEND_Backend backend) {
    try (PointerScope scope = new PointerScope()) {
      PointerPointer<TRITONSERVER_Message> message = new PointerPointer<>(1);
      Errors.check(TRITONBACKEND_BackendConfig(backend, message), "TRITONBACKEND_BackendConfig");
      // The backend config message belongs to Triton: serialise it, never delete it.
      return serialize(new TRITONSERVER_Message(message.get(0)));
    }
  }

  static String backendDirectory(TRITONBACKEND_Backend backend) {
    try (PointerScope scope = new PointerScope()) {
      PointerPointer<BytePointer> location = new PointerPointer<>(1);
      Errors.check(TRITONBACKEND_BackendArtifacts(backend, new IntPointer(1), location),
          "TRITONBACKEND_BackendArtifacts");
      return location.getString(0);
    }
  }

  static String modelName(TRITONBACKEND_Model model) {
    try (PointerScope scope = new PointerScope()) {
      PointerPointer<BytePointer> name = new PointerPointer<>(1);
      Errors.check(TRITONBACKEND_ModelName(model, name), "TRITONBACKEND_ModelName");
      return name.getString(0);
    }
  }

  static long modelVersion(TRITONBACKEND_Model model) {
    try (PointerScope scope = new PointerScope()) {
      LongPointer version = new LongPointer(1);
      Errors.check(TRITONBACKEND_ModelVersion(model, version), "TRITONBACKEND_ModelVersion");
      return version.get();
    }
  }

  static String modelRepository(TRITONBACKEND_Model model) {
    try (PointerScope scope = new PointerScope()) {
      PointerPointer<BytePointer> location = new PointerPointer<>(1);
      Errors.check(TRITONBACKEND_ModelRepository(model, new IntPointer(1), location),
          "TRITONBACKEND_ModelRepository");
      return location.getString(0);
    }
  }

  /** The model configuration JSON (version 1); the message is ours to delete, and is. */
  static String modelConfigJson(TRITONBACKEND_Model model) {
    try (PointerScope scope = new PointerScope()) {
      PointerPointer<TRITONSERVER_Message> message = new PointerPointer<>(1);
      Errors.check(TRITONBACKEND_ModelConfig(model, 1, message), "TRITONBACKEND_ModelConfig");
      TRITONSERVER_Message m = new TRITONSERVER_Message(message.get(0));
      try {
        return serialize(m);
      } finally {
        Errors.check(TRITONSERVER_MessageDelete(m), "TRITONSERVER_MessageDelete");
      }
    }
  }

  static boolean autoCompleteConfig(TRITONBACKEND_Model model) {
    try (PointerScope scope = new PointerScope()) {
      BoolPointer flag = new BoolPointer(1);
      Errors.check(TRITONBACKEND_ModelAutoCompleteConfig(model, flag),
          "TRITONBACKEND_ModelAutoCompleteConfig");
      return flag.get();
    }
  }

  /** Hands Triton a completed configuration; we keep and delete the message we made. */
  static void setModelConfig(TRITONBACKEND_Model model, String json) {
    try (PointerScope scope = new PointerScope()) {
      PointerPointer<TRITONSERVER_Message> message = new PointerPointer<>(1);
      BytePointer bytes = new BytePointer(json);
      Errors.check(TRITONSERVER_MessageNewFromSerializedJson(message, bytes, bytes.limit()),
          "TRITONSERVER_MessageNewFromSerializedJson");
      TRITONSERVER_Message m = new TRITONSERVER_Message(message.get(0));
      try {
        Errors.check(TRITONBACKEND_ModelSetConfig(model, 1, m), "TRITONBACKEND_ModelSetConfig");
      } finally {
        Errors.check(TRITONSERVER_MessageDelete(m), "TRITONSERVER_MessageDelete");
      }
    }
  }

  static String instanceName(TRITONBACKEND_ModelInstance instance) {
    try (PointerScope scope = new PointerScope()) {
      PointerPointer<BytePointer> name = new PointerPointer<>(1);
      Errors.check(TRITONBACKEND_ModelInstanceName(instance, name), "TRITONBACKEND_ModelInstanceName");
      return name.getString(0);
    }
  }

  /** {@code TRITONSERVER_InstanceGroupKind}: AUTO=0, CPU=1, GPU=2, MODEL=3. */
  static int instanceKind(TRITONBACKEND_ModelInstance instance) {
    try (PointerScope scope = new PointerScope()) {
      IntPointer kind = new IntPointer(1);
      Errors.check(TRITONBACKEND_ModelInstanceKind(instance, kind), "TRITONBACKEND_ModelInstanceKind");
      return kind.get();
    }
  }

  static int instanceDeviceId(TRITONBACKEND_ModelInstance instance) {
    try (PointerScope scope = new PointerScope()) {
      IntPointer id = new IntPointer(1);
      Errors.check(TRITONBACKEND_ModelInstanceDeviceId(instance, id),
          "TRITONBACKEND_ModelInstanceDeviceId");
      return id.get();
    }
  }

  static long instanceModel(TRITONBACKEND_ModelInstance instance) {
    try (PointerScope scope = new PointerScope()) {
      PointerPointer<?> model = new PointerPointer<>(1);
      Errors.check(TRITONBACKEND_ModelInstanceModel(instance, model), "TRITONBACKEND_ModelInstanceModel");
      return model.get(0).address();
    }
  }

  private static String serialize(TRITONSERVER_Message message) {
    PointerPointer<BytePointer> base = new PointerPointer<>(1);
    SizeTPointer size = new SizeTPointer(1);
    Errors.check(TRITONSERVER_MessageSerializeToJson(message, base, size),
        "TRITONSERVER_MessageSerializeToJson");
    BytePointer bytes = new BytePointer(base.get(0)).capacity(size.get());
    return bytes.getString(java.nio.charset.StandardCharsets.UTF_8);
  }
}
