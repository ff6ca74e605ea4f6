package dev.javaonnxruntime.onnx;

import static org.bytedeco.cuda.global.cudart.cudaDeviceSynchronize;
import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;
import static org.bytedeco.cuda.global.cudart.cudaMemcpy;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;
import static org.bytedeco.cuda.global.cudart.cudaSetDevice;

import dev.javaonnxruntime.config.DataType;
import dev.javaonnxruntime.cuda.CudaStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Whether a captured CUDA graph still answers right after its session ran another batch shape:
 * captures batch {@code CAPTURE} of the model, runs batch {@code OTHER} eagerly ({@code
 * eager=same}: in the graph's session, as one session per instance did; {@code eager=own}: in a
 * session of its own, as {@link ModelSession#graphSession} arranges), writes a new input into the
 * graph's buffers, replays, and compares the outputs bit for bit with a fresh session's eager run
 * on that input. Prints one {@code RESULT} line. A diagnostic, not a test: one case per process.
 *
 * <p>Run: {@code java -cp <jars> dev.javaonnxruntime.onnx.InterleaveProbe MODEL.onnx CAPTURE OTHER
 * eager=same|own}.
 */
public final class InterleaveProbe {
  private InterleaveProbe() {}

  public static void main(String[] args) throws Exception {
    Path file = Path.of(args[0]);
    int capture = Integer.parseInt(args[1]);
    int other = Integer.parseInt(args[2]);
    boolean same = !args[3].equals("eager=own");
    StringBuilder line = new StringBuilder("RESULT model=" + file.getParent().getParent()
        .getFileName() + " capture=" + capture + " other=" + other + " " + args[3]);
    cudaSetDevice(0);
    List<Pointer> device = new ArrayList<>();
    try (OrtRuntime ort = OrtRuntime.create();
        CudaStream stream = new CudaStream(0)) {
      ExecutionTarget target = ExecutionTarget.cuda(0, stream.handle());
      SessionSettings graphs = SessionSettings.threads(0).withCudaGraph(true);
      try (ModelSession graph = ModelSession.open(ort, file, target, graphs);
          ModelSession eager = same ? null : graph.graphSession();
          ModelSession fresh = ModelSession.open(ort, file, target, SessionSettings.threads(0))) {
        List<String> names = graph.outputs().stream().map(TensorInfo::name).toList();
        List<InputTensor> in = inputs(graph, capture, 0.001, device);
        List<OutputTensor> out = new ArrayList<>();
        graph.run(in, names, outs -> {
          for (OutputTensor o : outs) {
            Pointer d = malloc(o.byteSize(), device);
            out.add(new OutputTensor(o.name(), o.dataType(), d.address(), o.byteSize(),
                o.shape(), true));
          }
        });
        try (FixedRun fixed = graph.fixedRun(in, out, 1)) {
          fixed.run(); // warm-up, capture and one replay
          sync(stream);
          boolean before = same(read(out), eagerOutputs(fresh, in, names, stream));
          List<InputTensor> big = inputs(graph, other, 0.002, device);
          for (int i = 0; i < 3; i++) {
            (same ? graph : eager).run(big, names, outs -> sync(stream));
          }
          fill(in, 0.003);
          fixed.run();
          sync(stream);
          List<byte[]> replayed = read(out);
          List<byte[]> reference = eagerOutputs(fresh, in, names, stream);
          line.append(" replay_before=").append(before ? "identical" : "DIFFERS")
              .append(" replay_after=").append(same(replayed, reference) ? "identical"
                  : "DIFFERS(max_abs=" + maxAbs(replayed, reference, out) + ")");
        }
      }
    } catch (RuntimeException e) {
      line.append(" error=").append(String.valueOf(e.getMessage()).replace('\n', ' '));
    } finally {
      device.forEach(p -> cudaFree(p));
    }
    System.out.println(line);
  }

  /** Device inputs of batch {@code batch} (other free dims 1), filled with sin(j * step). */
  private static List<InputTensor> inputs(ModelSession s, int batch, double step,
      List<Pointer> device) {
    List<InputTensor> in = new ArrayList<>();
    for (TensorInfo t : s.inputs()) {
      long[] shape = t.shape().clone();
      for (int d = 0; d < shape.length; d++) {
        if (shape[d] < 0) {
          shape[d] = d == 0 ? batch : 1;
        }
      }
      long n = 1;
      for (long x : shape) {
        n *= x;
      }
      long bytes = n * t.dataType().byteSize();
      in.add(new InputTensor(t.name(), t.dataType(), malloc(bytes, device).address(), bytes,
          shape, true));
    }
    fill(in, step);
    return in;
  }

  private static void fill(List<InputTensor> in, double step) {
    for (InputTensor t : in) {
      long n = t.byteSize() / t.dataType().byteSize();
      try (BytePointer host = new BytePointer(t.byteSize())) {
        for (long j = 0; j < n; j++) {
          if (t.dataType() == DataType.FP32) {
            host.putFloat(j * 4, (float) Math.sin(j * step));
          } else if (t.dataType() == DataType.INT64) {
            host.putLong(j * 8, (long) (j * step * 100_000) % 1000);
          } else {
            throw new IllegalArgumentException("fills FP32 and INT64 inputs only: " + t);
          }
        }
        check(cudaMemcpy(FixedRun.view(t.address()), host, t.byteSize(), cudaMemcpyHostToDevice));
      }
    }
  }

  private static List<byte[]> eagerOutputs(ModelSession s, List<InputTensor> in,
      List<String> names, CudaStream stream) throws Exception {
    List<byte[]> all = new ArrayList<>();
    s.run(in, names, outs -> {
      sync(stream);
      all.addAll(read(outs));
    });
    return all;
  }

  private static List<byte[]> read(List<OutputTensor> outs) {
    List<byte[]> all = new ArrayList<>();
    for (OutputTensor o : outs) {
      try (BytePointer host = new BytePointer(o.byteSize())) {
        check(cudaMemcpy(host, FixedRun.view(o.address()), o.byteSize(), cudaMemcpyDeviceToHost));
        byte[] b = new byte[(int) o.byteSize()];
        host.get(b);
        all.add(b);
      }
    }
    return all;
  }

  private static boolean same(List<byte[]> a, List<byte[]> b) {
    for (int i = 0; i < a.size(); i++) {
      if (!Arrays.equals(a.get(i), b.get(i))) {
        return false;
      }
    }
    return true;
  }

  /** The largest absolute difference over FP32 outputs (NaN where none is FP32). */
  private static double maxAbs(List<byte[]> a, List<byte[]> b, List<OutputTensor> outs) {
    double max = Double.NaN;
    for (int i = 0; i < a.size(); i++) {
      if (outs.get(i).dataType() != DataType.FP32) {
        continue;
      }
      FloatBuffer x = ByteBuffer.wrap(a.get(i))
          .order(ByteOrder.nativeOrder()).asFloatBuffer();
      FloatBuffer y = ByteBuffer.wrap(b.get(i))
          .order(ByteOrder.nativeOrder()).asFloatBuffer();
      for (int j = 0; j < x.limit(); j++) {
        double d = Math.abs(x.get(j) - y.get(j));
        max = Double.isNaN(max) ? d : Math.max(max, d);
      }
    }
    return max;
  }

  private static Pointer malloc(long bytes, List<Pointer> device) {
    Pointer d = new Pointer();
    check(cudaMalloc(d, Math.max(bytes, 1)));
    device.add(d);
    return d;
  }

  private static void sync(CudaStream stream) {
    stream.synchronize();
    check(cudaDeviceSynchronize());
  }

  private static void check(int rc) {
    if (rc != 0) {
      throw new IllegalStateException("CUDA error " + rc);
    }
  }
}
