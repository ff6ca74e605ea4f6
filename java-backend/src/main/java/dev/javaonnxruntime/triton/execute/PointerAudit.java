package dev.javaonnxruntime.triton.execute;

import dev.javaonnxruntime.triton.Log;
import org.bytedeco.javacpp.Pointer;

/**
 * Test seam (system property {@code java_onnxruntime.test.audit-pointers=true}): JavaCPP's byte
 * and pointer counts before an Execute, logged with those after it, which must be equal. Made
 * only while the seam is on; one per Execute, on the instance's thread.
 */
final class PointerAudit {
  private static final boolean ON = Boolean.getBoolean("java_onnxruntime.test.audit-pointers");
  private final long bytes = Pointer.totalBytes();
  private final long count = Pointer.totalCount();

  private PointerAudit() {}

  /** The counts now, or null when the seam is off. */
  static PointerAudit start() {
    return ON ? new PointerAudit() : null;
  }

  /** Logs the counts from {@link #start} beside the counts now. */
  void log(String model, int requests) {
    Log.info("pointer audit: model '" + model + "' Execute of " + requests
        + " requests: JavaCPP counted " + bytes + " bytes in " + count + " pointers "
        + "before it, " + Pointer.totalBytes() + " bytes in " + Pointer.totalCount()
        + " pointers after it");
  }
}
