import java.lang.instrument.Instrumentation;

/**
 * A Java agent for tests: makes the JVM inside tritonserver take SIGSEGV-based safepoint polls
 * all the time. One daemon thread forces a GC every {@code gcEveryMs} milliseconds (each GC is a
 * safepoint, which arms the polling page); another runs a hot compiled loop whose safepoint polls
 * then fault on the armed page. HotSpot handles those faults itself, in its SIGSEGV handler, so
 * any process that replaces that handler without chaining dies within milliseconds.
 *
 * <p>Loaded with {@code -javaagent:safepoint-pressure.jar=<gcEveryMs>} (default 2).
 */
public final class SafepointPressure {
  private SafepointPressure() {}

  private static volatile long sink;

  public static void premain(String args, Instrumentation unused) {
    long gcEveryMs = args == null || args.isEmpty() ? 2 : Long.parseLong(args.trim());
    start("safepoint-pressure-gc", () -> {
      while (true) {
        System.gc();
        sleep(gcEveryMs);
      }
    });
    start("safepoint-pressure-spin", () -> {
      long[] values = new long[4096];
      while (true) {
        long sum = 0;
        for (long i = 0; i < 50_000_000L; i++) {
          int at = (int) (i & (values.length - 1));
          values[at] += i;
          sum += values[at];
        }
        sink = sum;
        sleep(1);
      }
    });
  }

  private static void start(String name, Runnable body) {
    Thread thread = new Thread(body, name);
    thread.setDaemon(true);
    thread.start();
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
