package dev.javaonnxruntime.onnx;

import static org.bytedeco.onnxruntime.global.onnxruntime.*;

import dev.javaonnxruntime.config.DataType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.onnxruntime.CUDAProviderOptions;
import org.bytedeco.onnxruntime.ConstTensorTypeAndShapeInfo;
import org.bytedeco.onnxruntime.OrtApi;
import org.bytedeco.onnxruntime.OrtMemoryInfo;
import org.bytedeco.onnxruntime.OrtStatus;
import org.bytedeco.onnxruntime.Session;
import org.bytedeco.onnxruntime.SessionOptions;
import org.bytedeco.onnxruntime.StringStringMap;
import org.bytedeco.onnxruntime.StringVector;
import org.bytedeco.onnxruntime.TypeInfo;

/**
 * Opens the ONNX Runtime session of a {@link ModelSession}: its options (optimisation level,
 * threads, config entries, free dimensions) and, for a CUDA target, the CUDA provider's options
 * (device, graph mode, the instance's stream). On failure everything made so far is closed.
 * Also reads the model's inputs and outputs from an open session.
 */
final class SessionOpener {
  private SessionOpener() {}

  /** What {@link #open} made: the closer of the session owns all three. */
  record Opened(SessionOptions options, CUDAProviderOptions cuda, Session session) {}

  static Opened open(OrtRuntime runtime, Path file, ExecutionTarget target,
      SessionSettings settings, boolean graphMode, boolean userStream) {
    SessionOptions options = new SessionOptions();
    CUDAProviderOptions cuda = null;
    try {
      options.SetGraphOptimizationLevel(ORT_ENABLE_ALL);
      if (settings.intraOpThreads() > 0) {
        options.SetIntraOpNumThreads(settings.intraOpThreads());
      }
      settings.sessionConfig().forEach(options::AddConfigEntry);
      for (Map.Entry<String, Long> d : settings.freeDimensions().entrySet()) {
        check(GetApi().AddFreeDimensionOverrideByName(options.asOrtSessionOptions(), d.getKey(),
            d.getValue()), "free dimension '" + d.getKey() + "'");
      }
      if (target.gpu()) {
        cuda = new CUDAProviderOptions();
        try (PointerScope scope = new PointerScope()) { // the map and its strings: copied by Update
          StringStringMap map = new StringStringMap();
          map.put(new BytePointer("device_id"), new BytePointer(Integer.toString(target.deviceId())));
          if (graphMode) {
            map.put(new BytePointer("enable_cuda_graph"), new BytePointer("1"));
          }
          settings.cudaOptions().forEach((k, v) -> map.put(new BytePointer(k), new BytePointer(v)));
          cuda.Update(map);
        }
        if (userStream) {
          // ORT computes on the instance's own non-blocking stream, where all our copies run too.
          cuda.UpdateWithValue("user_compute_stream", FixedRun.view(target.stream()));
        }
        options.AppendExecutionProvider_CUDA_V2(cuda.asOrtCUDAProviderOptionsV2());
      }
      try (BytePointer path = new BytePointer(file.toString())) {
        return new Opened(options, cuda, new Session(runtime.env(), path, options));
      }
    } catch (RuntimeException e) {
      if (cuda != null) {
        cuda.close();
      }
      options.close();
      throw e instanceof OrtFailure f ? f
          : new OrtFailure("ONNX Runtime cannot load " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The model's inputs or outputs: names, types and shapes. Every object ORT's C++ API returns
   * by value here (the name list, each name, type info and shape) is released with the scope.
   */
  static List<TensorInfo> describe(Session session, boolean isInput) {
    try (PointerScope scope = new PointerScope()) {
      StringVector list = isInput ? session.GetInputNames() : session.GetOutputNames();
      List<TensorInfo> out = new ArrayList<>();
      for (long i = 0; i < list.size(); i++) {
        TypeInfo type = isInput ? session.GetInputTypeInfo(i) : session.GetOutputTypeInfo(i);
        ConstTensorTypeAndShapeInfo info = type.GetTensorTypeAndShapeInfo();
        DataType dt = ElementTypes.fromOnnx(info.GetElementType());
        out.add(new TensorInfo(list.get(i).getString(), dt, info.GetShape().get()));
      }
      return List.copyOf(out);
    }
  }

  /**
   * Whether ONNX Runtime reads every input of {@code session} in GPU memory of device {@code
   * deviceId} ({@code SessionGetMemoryInfoForInputs}): a device tensor bound to such an input is
   * read where it lies at each run. Where an input is read elsewhere (a CPU node consumes it),
   * binding copies the bytes at bind time, and a binding kept for the next run would hold the
   * old bytes.
   */
  static boolean readsInputsOnDevice(Session session, int inputs, int deviceId) {
    OrtApi api = GetApi();
    // The infos are the session's (never released); the rest goes with the scope.
    try (PointerScope scope = new PointerScope();
        OrtApi.MemoryInfoGetDeviceType_OrtMemoryInfo_IntPointer deviceType =
            api.MemoryInfoGetDeviceType()) {
      PointerPointer<OrtMemoryInfo> infos = new PointerPointer<>(Math.max(inputs, 1));
      check(api.SessionGetMemoryInfoForInputs(session.asOrtSession(), infos, inputs),
          "a query of its inputs' memory");
      IntPointer value = new IntPointer(1);
      for (int i = 0; i < inputs; i++) {
        OrtMemoryInfo info = infos.get(OrtMemoryInfo.class, i);
        if (info == null || info.isNull()) {
          return false;
        }
        deviceType.call(info, value);
        if (value.get() != OrtMemoryInfoDeviceType_GPU) {
          return false;
        }
        check(api.MemoryInfoGetId(info, value), "a query of an input's device");
        if (value.get() != deviceId) {
          return false;
        }
      }
      return true;
    }
  }

  private static void check(OrtStatus status, String what) {
    if (status != null && !status.isNull()) {
      throw new OrtFailure("ONNX Runtime refused " + what + ": " + OrtFailure.release(status), null);
    }
  }
}
