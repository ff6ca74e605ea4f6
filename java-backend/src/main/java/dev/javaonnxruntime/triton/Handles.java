package dev.javaonnxruntime.triton;

import org.bytedeco.javacpp.Pointer;

/**
 * Turns the addresses the shim passes (Triton's opaque handles) into JavaCPP pointers for the
 * generated binding. A view: it owns nothing and frees nothing.
 */
public final class Handles {
  private Handles() {}

  /** A new view of {@code address}. */
  public static Pointer at(long address) {
    return new View(address);
  }

  /** A view to re-aim with {@link View#at}: one object for a hot path's many addresses. */
  public static View reusable() {
    return new View(0);
  }

  /** A non-owning view of one address; {@link #at} re-aims it. */
  public static final class View extends Pointer {
    private View(long address) {
      this.address = address;
    }

    /** Re-aims this view at {@code address}; returns it. */
    public View at(long address) {
      this.address = address;
      return this;
    }
  }
}
