package dev.javaonnxruntime.resolve;

import dev.javaonnxruntime.read.InputView;

/**
 * Where one resolved input's bytes are for this run: either Triton's buffers of the request
 * ({@link FromRequest}, wherever they lie, with the route that brings them to the instance) or one
 * block of the instance's own device memory ({@link Resident}: a cache entry, pinned by a lease
 * until the instance's stream is synchronised). Immutable values for one Execute.
 */
public sealed interface InputSource {
  /** The input's shape. */
  long[] shape();

  /** Its size in bytes. */
  long byteSize();

  /**
   * Triton's buffers of the request, taken by {@code route}.
   *
   * @param view the request's input
   * @param route how its buffers reach the instance
   */
  record FromRequest(InputView view, InputPlacement.Route route) implements InputSource {
    @Override
    public long[] shape() {
      return view.shape();
    }

    @Override
    public long byteSize() {
      return view.byteSize();
    }
  }

  /**
   * A block of the instance's memory at {@code address} (a cache entry).
   *
   * @param shape the tensor's shape
   * @param byteSize its size in bytes
   * @param address where it lies in the instance's device memory
   * @param entryId the cache entry's id ({@link dev.javaonnxruntime.cache.Lease#entryId}): equal
   *     ids, equal bytes
   */
  record Resident(long[] shape, long byteSize, long address, long entryId)
      implements InputSource {}
}
