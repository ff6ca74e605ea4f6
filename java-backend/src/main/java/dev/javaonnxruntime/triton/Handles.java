package dev.javaonnxruntime.triton;

import org.bytedeco.javacpp.Pointer;

/**
 * Turns the addresses the shim passes (Triton's opaque handles) into JavaCPP pointers for the
 * generated binding. A view: it owns nothing and frees nothing.
 */
final class Handles {
  private Handles() {}

  static Pointer at(long address) {
    return new View(address);
  }

  private static final class View extends Pointer {
    View(long address) {
      this.address = address;
    }
  }
}
