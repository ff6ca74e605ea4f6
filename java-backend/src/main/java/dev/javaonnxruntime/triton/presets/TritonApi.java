package dev.javaonnxruntime.triton.presets;

import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.tools.Info;
import org.bytedeco.javacpp.tools.InfoMap;
import org.bytedeco.javacpp.tools.InfoMapper;

/**
 * The JavaCPP preset from which the build generates our binding of Triton's backend API.
 *
 * <p>The upstream {@code org.bytedeco:tritonserver} preset needs glibc 2.38, so we bind only the
 * subset we call, from the same {@code native/include/triton_api.h} the C shim and the host use:
 * one list of declarations, three consumers. The generated classes land in {@code
 * dev.javaonnxruntime.triton.api} (opaque handles) and {@code ...api.global.TritonApiLib} (the
 * functions and enum constants). The JNI library links against {@code libtritonserver.so}, which
 * is already loaded in the process when Triton (or our host) runs the backend.
 */
@Properties(
    target = "dev.javaonnxruntime.triton.api",
    global = "dev.javaonnxruntime.triton.api.global.TritonApiLib",
    value = @Platform(include = "triton_api.h", link = "tritonserver"))
public class TritonApi implements InfoMapper {
  @Override
  public void map(InfoMap infoMap) {
    infoMap.put(new Info("JAVA_ONNXRUNTIME_TRITON_API_H").cppTypes().annotations());
    infoMap.put(new Info("__cplusplus").define(false));
  }
}
