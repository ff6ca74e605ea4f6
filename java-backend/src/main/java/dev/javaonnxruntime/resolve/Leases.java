package dev.javaonnxruntime.resolve;

import dev.javaonnxruntime.cache.Lease;
import dev.javaonnxruntime.lifecycle.Closer;
import java.util.ArrayList;
import java.util.List;

/**
 * The cache entries one Execute reads or wrote (inputs looked up or stored, outputs kept), each
 * pinned by its {@link Lease} until the instance has synchronised its stream. Shared by the
 * instance's {@link CacheLookup} and its {@code respond.CachedOutputs}; closed by its {@link
 * InputStager} at the end of every Execute. Used only on the instance's thread.
 */
public final class Leases {
  private final List<Lease> held = new ArrayList<>();

  /** Holds {@code lease} until {@link #closeAll}; returns it. */
  public Lease track(Lease lease) {
    held.add(lease);
    return lease;
  }

  /** Closes every lease, even when one fails, and throws the first failure (later suppressed). */
  void closeAll() {
    Closer closer = new Closer("stager.finish");
    held.forEach(lease -> closer.close("lease", lease));
    held.clear();
    closer.finish();
  }
}
