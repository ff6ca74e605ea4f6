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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Tries one way of opening a model for CUDA graphs and prints one {@code RESULT} line: whether the
 * session loads, whether ONNX Runtime captures the graph, whether its replays equal the eager run
 * bit for bit, and eager and replay latency. A tool for finding which provider settings let ORT
 * capture a model on a given GPU, not a test: one variant per process, because a failed capture
 * can leave a sticky CUDA error that poisons the process.
 *
 * <p>Run: {@code java -cp <jars> dev.javaonnxruntime.onnx.GraphProbe MODEL.onnx BATCH
 * [stream=user|ort]
 * [graph=off] [cuda.<provider option>=V]... [session.<config key>=V]... [dim.<symbolic dim>=N]
 * [runs=N]}. {@code graph=off} captures nothing and only runs the session eagerly; a line
 * {@code CLOSED ...} follows once the session has been closed.
 */
public final class GraphProbe {
  private GraphProbe() {}

  public static void main(String[] args) throws Exception {
    Path file = Path.of(args[0]);
    int batch = Integer.parseInt(args[1]);
    boolean userStream = true;
    boolean graph = true;
    int runs = 200;
    Map<String, String> cuda = new HashMap<>();
    Map<String, String> config = new HashMap<>();
    Map<String, Long> dims = new HashMap<>();
    for (int i = 2; i < args.length; i++) {
      String a = args[i];
      String k = a.substring(0, a.indexOf('='));
      String v = a.substring(a.indexOf('=') + 1);
      if (k.equals("stream")) {
        userStream = v.equals("user");
      } else if (k.equals("graph")) {
        graph = !v.equals("off");
      } else if (k.equals("runs")) {
        runs = Integer.parseInt(v);
      } else if (k.startsWith("cuda.")) {
        cuda.put(k.substring(5), v);
      } else if (k.startsWith("dim.")) {
        dims.put(k.substring(4), Long.parseLong(v));
      } else {
        config.put(k, v);
      }
    }
    String variant = String.join(" ", Arrays.asList(args).subList(2, args.length));
    StringBuilder line = new StringBuilder("RESULT model="
        + file.getParent().getParent().getFileName()
        + " batch=" + batch + " variant=[" + variant + "]");
    cudaSetDevice(0);
    try (OrtRuntime ort = OrtRuntime.create();
        CudaStream stream = new CudaStream(0)) {
      SessionSettings settings = SessionSettings.threads(0).withCudaGraph(graph)
          .withCudaOptions(cuda)
          .withSessionConfig(config).withFreeDimensions(dims);
      ModelSession session;
      try {
        session = ModelSession.open(ort, file,
            ExecutionTarget.cuda(0, userStream ? stream.handle() : 0), settings);
      } catch (RuntimeException e) {
        System.out.println(line + " load=FAIL(" + oneLine(e) + ")");
        return;
      }
      line.append(" load=ok");
      List<Pointer> device = new ArrayList<>();
      try (session) {
        body: {
          List<InputTensor> in = new ArrayList<>();
          for (TensorInfo t : session.inputs()) {
            long[] shape = t.shape().clone();
            for (int d = 0; d < shape.length; d++) {
              if (shape[d] < 0) {
                shape[d] = d == 0 ? batch : 1;
              }
            }
            long n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
            long bytes = n * t.dataType().byteSize();
            BytePointer host = new BytePointer(bytes);
            for (long j = 0; j < n; j++) {
              if (t.dataType() == DataType.FP32) {
                host.putFloat(j * 4, (float) Math.sin(j * 0.001));
              } else if (t.dataType() == DataType.INT64) {
                host.putLong(j * 8, (j * 7919) % 1000);
              } else {
                throw new IllegalArgumentException("probe fills FP32 and INT64 inputs only: " + t);
              }
            }
            Pointer d = new Pointer();
            check(cudaMalloc(d, bytes), "cudaMalloc");
            device.add(d);
            check(cudaMemcpy(d, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
            in.add(new InputTensor(t.name(), t.dataType(), d.address(), bytes, shape, true));
          }
          List<String> outNames = session.outputs().stream().map(TensorInfo::name).toList();
          List<byte[]> reference = new ArrayList<>();
          List<OutputTensor> outShapes = new ArrayList<>();
          long[] eager = new long[Math.max(runs / 4, 10)];
          for (int r = -3; r < eager.length; r++) {
            long t0 = System.nanoTime();
            int rr = r;
            session.run(in, outNames, outs -> {
              sync(stream);
              if (rr == -3) {
                for (OutputTensor o : outs) {
                  reference.add(toHost(o.address(), o.byteSize()));
                  outShapes.add(o);
                }
              }
            });
            if (r >= 0) {
              eager[r] = System.nanoTime() - t0;
            }
          }
          line.append(String.format(" eager_p50_ms=%.3f", p50(eager)));
          if (!graph) {
            break body;
          }
          List<OutputTensor> out = new ArrayList<>();
          for (OutputTensor o : outShapes) {
            Pointer d = new Pointer();
            check(cudaMalloc(d, o.byteSize()), "cudaMalloc");
            device.add(d);
            out.add(new OutputTensor(o.name(), o.dataType(), d.address(), o.byteSize(), o.shape(),
                true));
          }
          try (FixedRun fixed = session.fixedRun(in, out, 0)) {
            long[] replay = new long[runs];
            try {
              long t0 = System.nanoTime();
              fixed.run(); // regular run under the graph id
              sync(stream);
              long t1 = System.nanoTime();
              fixed.run(); // capture, then one replay
              sync(stream);
              line.append(String.format(" capture=ok(warm %.1f ms, capture %.1f ms)",
                  (t1 - t0) / 1e6, (System.nanoTime() - t1) / 1e6));
            } catch (RuntimeException e) {
              line.append(" capture=FAIL(" + oneLine(e) + ")");
              break body;
            }
            boolean same = identical(out, reference);
            for (int r = 0; r < runs; r++) {
              long t0 = System.nanoTime();
              fixed.run();
              sync(stream);
              replay[r] = System.nanoTime() - t0;
            }
            same &= identical(out, reference);
            line.append(String.format(" graph_p50_ms=%.3f identical=%s", p50(replay), same));
          }
        }
      } catch (RuntimeException e) {
        line.append(" error=").append(oneLine(e));
      } finally {
        device.forEach(p -> cudaFree(p));
        System.out.println(line); // before the session closes: closing may abort the process
      }
      System.out.println("CLOSED session of " + file + ", after " + variant);
    }
  }

  /** Waits for the instance stream and, for ORT's own stream, the whole device. */
  private static void sync(CudaStream stream) {
    stream.synchronize();
    check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  }

  private static boolean identical(List<OutputTensor> out, List<byte[]> reference) {
    for (int i = 0; i < out.size(); i++) {
      if (!Arrays.equals(toHost(out.get(i).address(), out.get(i).byteSize()), reference.get(i))) {
        return false;
      }
    }
    return true;
  }

  private static byte[] toHost(long address, long bytes) {
    try (BytePointer host = new BytePointer(bytes)) {
      check(cudaMemcpy(host, FixedRun.view(address), bytes, cudaMemcpyDeviceToHost), "cudaMemcpy");
      byte[] b = new byte[(int) bytes];
      host.get(b);
      return b;
    }
  }

  private static double p50(long[] nanos) {
    long[] s = nanos.clone();
    Arrays.sort(s);
    return s[s.length / 2] / 1e6;
  }

  private static void check(int rc, String what) {
    if (rc != 0) {
      throw new IllegalStateException(what + " failed: CUDA error " + rc);
    }
  }

  private static String oneLine(Throwable e) {
    String m = String.valueOf(e.getMessage()).replace('\n', ' ');
    return m.length() > 400 ? m.substring(0, 400) + "..." : m;
  }
}
