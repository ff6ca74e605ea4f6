package dev.javaonnxruntime.cuda;

import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Keeps CUDA work of other threads off a device while one thread captures a CUDA graph there.
 *
 * <p>Why it exists: ONNX Runtime captures in CUDA's global capture mode, in which a call that may
 * implicitly synchronise (an allocation, a synchronous copy, an event query) made by any other
 * thread of the process invalidates the capture, and instances of different models run on their
 * own threads at once. So every thread that issues CUDA work on the device holds the gate shared
 * ({@link #enter}/{@link #exit}: a session being created, and every Execute of a GPU instance,
 * since any model on the device may capture), and a capture holds it exclusively ({@link
 * #exclusive}), as does an instance's finalize ({@link #enterAlone}); captures
 * happen once per instance and batch shape, so the pause is rare. Uncontended, entering costs a
 * few atomic operations.
 *
 * <p>Ownership: one gate per device, owned by the backend state, handed to instances. Thread-safe.
 */
public final class CaptureGate {
  /** Work to run while no other thread issues CUDA work on the device. */
  @FunctionalInterface
  public interface Exclusive<T> {
    /** Runs the capture. */
    T run();
  }

  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

  /** Starts CUDA work of this thread on the device (shared with other threads' work). */
  public void enter() {
    lock.readLock().lock();
  }

  /** Ends what {@link #enter} started. */
  public void exit() {
    lock.readLock().unlock();
  }

  /**
   * Starts work that no other thread's CUDA work on the device may overlap, for a thread that
   * holds no share: an instance's finalize, whose cuBLAS and cuDNN teardown synchronises the
   * whole context (two such teardowns, or one beside another instance's Execute, crashed the
   * driver in the H200 stress: bench/results/2026-12-03c-h200-reload). Waits for every Execute
   * and load in progress; {@link #leave} ends it.
   */
  public void enterAlone() {
    if (lock.getReadHoldCount() != 0) {
      throw new IllegalStateException("enterAlone() needs no shared hold, this thread has "
          + lock.getReadHoldCount());
    }
    lock.writeLock().lock();
  }

  /** Ends what {@link #enterAlone} started. */
  public void leave() {
    lock.writeLock().unlock();
  }

  /**
   * Runs {@code work} alone on the device. The calling thread must hold the gate shared exactly
   * once (it is inside an Execute): that hold is given up for the exclusive one and taken back
   * before this returns, so other threads may run between.
   */
  public <T> T exclusive(Exclusive<T> work) {
    if (lock.getReadHoldCount() != 1) {
      throw new IllegalStateException("exclusive() needs exactly one shared hold, this thread has "
          + lock.getReadHoldCount());
    }
    lock.readLock().unlock();
    lock.writeLock().lock();
    try {
      return work.run();
    } finally {
      lock.readLock().lock(); // downgrade: taken before the exclusive hold is released
      lock.writeLock().unlock();
    }
  }
}
