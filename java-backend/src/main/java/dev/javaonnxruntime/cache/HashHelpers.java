package dev.javaonnxruntime.cache;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
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
    unpark(copies);
  }

  /** Wakes up to {@code count} parked helpers, to spin for {@code spinNanos} from now. */
  void wake(int count) {
    if (spinNanos > 0) {
      unpark(count);
    }
  }

  private void unpark(int count) {
    for (int i = 0; i < helpers.length && count > 0; i++) {
      Helper h = helpers[i];
      if (h.parked.get()) {
        if (h.parked.compareAndSet(true, false)) {
          LockSupport.unpark(h.thread);
          count--;
        }
      } else {
        count--; // awake already: it will find the task
      }
    }
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
          idleSince = System.nanoTime(); // woken: spin again before parking
        }
      }
    }
  }
}
