package dev.javaonnxruntime.lifecycle;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The test seam that makes a chosen cleanup step throw. System property {@value #PROPERTY}: a
 * comma-separated list of {@code <step>@<n>}, each making the n-th time that step is reached
 * throw an {@link InjectedFault}, once ({@code @1} when {@code @n} is left out). In the real
 * server: {@code --backend-config=java_onnxruntime,jvm-options=-D}{@value #PROPERTY}{@code
 * =response.send@3}. Steps are named where they are checked: the Execute path's in {@code
 * triton.Executor} and {@code OwnedRequests}, {@code lease.close}, {@code memory.free}, and every
 * element of a {@link Closer} chain as {@code <owner>.<element>} (docs/triton-guide.md, section
 * 7, lists them).
 *
 * <p>Why it exists: the code that must hold whatever throws (every request answered and released
 * exactly once, every owned thing closed) is proven only by making each step throw in a test.
 *
 * <p>Off (the property unset, as in production), {@link #at} reads one static final field that
 * is null. The armed steps are read once, when the class loads, and never change; only their hit
 * counters move, atomically, so it is thread-safe. It is static, not handed through constructors,
 * because the steps sit in every package, below anything a constructor could pass it through.
 */
public final class Faults {
  /** The system property that arms the seam. */
  public static final String PROPERTY = "java_onnxruntime.test.fault";
  private static final Map<String, Trigger> ARMED = parse(System.getProperty(PROPERTY));

  private Faults() {}

  /** Throws {@link InjectedFault} when {@code step} is armed and reached its n-th time now. */
  public static void at(String step) {
    if (ARMED != null) {
      Trigger t = ARMED.get(step);
      if (t != null) {
        t.hit(step);
      }
    }
  }

  /**
   * {@link #at} for step {@code owner + "." + element}, the name built only when the seam is
   * armed (a cleanup chain reaches this for every element of every Execute).
   */
  public static void at(String owner, String element) {
    if (ARMED != null) {
      at(owner + "." + element);
    }
  }

  /** The property's value when the seam is armed (for the log at backend start), else null. */
  public static String armed() {
    return ARMED == null ? null : System.getProperty(PROPERTY);
  }

  /** The armed steps whose n-th time has not come (a typo, or a path not taken), as step@n. */
  public static List<String> unfired() {
    List<String> list = new ArrayList<>();
    if (ARMED != null) {
      ARMED.forEach((step, t) -> {
        if (t.count.get() < t.at) {
          list.add(step + "@" + t.at);
        }
      });
    }
    return list;
  }

  /** The armed steps of a property value, or null when it arms none. */
  static Map<String, Trigger> parse(String spec) {
    if (spec == null || spec.isBlank()) {
      return null;
    }
    Map<String, Trigger> armed = new LinkedHashMap<>();
    for (String item : spec.split(",")) {
      String s = item.trim();
      int at = s.lastIndexOf('@');
      long n = 1;
      if (at >= 0) {
        try {
          n = Long.parseLong(s.substring(at + 1));
        } catch (NumberFormatException e) {
          n = 0;
        }
        s = s.substring(0, at);
      }
      if (s.isEmpty() || n < 1) {
        throw new IllegalArgumentException("system property " + PROPERTY + ": '" + item.trim()
            + "' is not <step>@<n> with n >= 1 (in '" + spec + "')");
      }
      armed.put(s, new Trigger(n));
    }
    return Collections.unmodifiableMap(armed);
  }

  /** One armed step: throws on its n-th hit. */
  static final class Trigger {
    final long at;
    final AtomicLong count = new AtomicLong();

    Trigger(long at) {
      this.at = at;
    }

    void hit(String step) {
      if (count.incrementAndGet() == at) {
        throw new InjectedFault(step, at);
      }
    }
  }

  /** What an armed step throws: an unexpected failure, as a bug or a failing driver would be. */
  public static final class InjectedFault extends RuntimeException {
    private static final long serialVersionUID = 1L;

    InjectedFault(String step, long n) {
      super("injected fault at " + step + " (time " + n + ", " + PROPERTY + ")");
    }
  }
}
