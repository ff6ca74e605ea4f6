package dev.javaonnxruntime.cache;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The helper threads of a {@link ContentHasher}: each runs the chunk tasks it is offered, and after
 * its last one keeps looking for the next for {@code spinNanos} on the CPU before it parks.
 *
 * <p>Why it exists: one chunk of a 602,112-byte input takes a few microseconds, and waking a
 * parked thread takes longer than that (measured on the H200 host: 4 and 8 threads hashed that
 * input no faster than 1, bench/results/2026-12-02-h200-triton-82af039/hash.txt), so a helper only
 * helps with such an input while it is awake. {@link #wake} lets a caller that knows a hash is
 * coming (an Execute of a content-keyed model) wake the helpers before it reads the request, so
 * that they are spinning by the time the chunks are offered. Spinning costs a core for as long
 * as it lasts: {@code spinNanos} 0 parks at once, as a thread pool does.
 *
 * <p>Ownership: owns its daemon threads, stopped by {@link #close()}. Thread-safe.
 */
final class HashHelpers implements AutoCloseable {
  private final Helper[] helpers;
  private final long spinNanos;
  private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  /** Parked helpers still to wake, which the first helper woken wakes. */
  private final AtomicInteger toWake = new AtomicInteger();
  private volatile boolean closed;

  HashHelpers(int count, long spinNanos) {
    this.spinNanos = spinNanos;
    helpers = new Helper[count];
    for (int i = 0; i < count; i++) {
      helpers[i] = new Helper("input-cache-hash-" + (i + 1));
      helpers[i].thread.start();
    }
  }

  List<Thread> threads() {
    return Arrays.stream(helpers).map(h -> h.thread).toList();
  }

  /** Offers {@code task} to {@code copies} helpers and wakes as many parked ones. */
  void offer(Runnable task, int copies) {
    for (int i = 0; i < copies; i++) {
      tasks.add(task);
    }
    wakeFromCaller(copies);
  }

  /** Wakes up to {@code count} parked helpers, to spin for {@code spinNanos} from now. */
  void wake(int count) {
    if (spinNanos > 0) {
      wakeFromCaller(count);
    }
  }

  /**
   * Makes {@code count} helpers awake: those awake already count, and of the parked ones the
   * caller wakes one, which wakes the others ({@link #wakeOthers}). A wake-up is a system call
   * of several microseconds on the H200 host: four of them on the instance thread cost it 14 us
   * per Execute, more than a woken helper saved.
   */
  private void wakeFromCaller(int count) {
    Helper first = null;
    for (int i = 0; i < helpers.length && count > 0; i++) {
      Helper h = helpers[i];
      if (!h.parked.get()) {
        count--; // awake already: it will find the task
      } else if (first == null && h.parked.compareAndSet(true, false)) {
        first = h;
        count--;
      }
    }
    if (first != null) {
      toWake.addAndGet(count);
      LockSupport.unpark(first.thread);
    }
  }

  /** On a helper just woken: wakes the parked helpers the callers asked for. */
  private void wakeOthers() {
    for (int i = 0; i < helpers.length && toWake.get() > 0; i++) {
      Helper h = helpers[i];
      if (h.parked.get() && h.parked.compareAndSet(true, false)) {
        toWake.decrementAndGet();
        LockSupport.unpark(h.thread);
      }
    }
    toWake.set(0); // the rest were awake
  }

  @Override
  public void close() {
    closed = true;
    for (Helper h : helpers) {
      LockSupport.unpark(h.thread);
    }
  }

  private final class Helper implements Runnable {
    final Thread thread;
    final AtomicBoolean parked = new AtomicBoolean();

    Helper(String name) {
      thread = new Thread(this, name);
      thread.setDaemon(true);
    }

    @Override
    public void run() {
      long idleSince = System.nanoTime();
      while (!closed) {
        Runnable task = tasks.poll();
        if (task != null) {
          task.run(); // a chunk task catches what its chunks throw
          idleSince = System.nanoTime();
        } else if (System.nanoTime() - idleSince < spinNanos) {
          Thread.onSpinWait();
        } else {
          parked.set(true);
          if (tasks.isEmpty() && !closed) {
            LockSupport.park(this);
          }
          parked.set(false);
          wakeOthers();
          idleSince = System.nanoTime(); // woken: spin again before parking
        }
      }
    }
  }
}
