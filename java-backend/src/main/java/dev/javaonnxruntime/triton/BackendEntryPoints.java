package dev.javaonnxruntime.triton;

import dev.javaonnxruntime.read.TritonException;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_Backend;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_Model;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_ModelInstance;

/**
 * What the C shim calls: one static method per {@code TRITONBACKEND_*} entry point, taking
 * Triton's handles as addresses and returning the address of a {@code TRITONSERVER_Error} (0 for
 * success, which Triton then owns). No exception leaves these methods: they map every failure in
 * one place ({@link Errors}). Thread-safe: state is found through the {@link Registry}.
 */
public final class BackendEntryPoints {
  private BackendEntryPoints() {}

  /** {@code TRITONBACKEND_Initialize}: read the backend config, load ONNX Runtime. */
  public static long initialize(long backend) {
    try {
      Log.install();
      Registry.get().putBackend(backend,
          BackendState.create(new TRITONBACKEND_Backend(Handles.at(backend))));
      return 0;
    } catch (Throwable t) {
      return Errors.toAddress(t);
    }
  }

  /**
   * {@code TRITONBACKEND_Finalize}: free what the backend holds; everything is closed even when
   * some close fails, and the error returned names every failure.
   */
  public static long finalizeBackend(long backend) {
    try {
      BackendState state = Registry.get().removeBackend(backend);
      if (state != null) {
        state.close();
      }
      return 0;
    } catch (Throwable t) {
      return Errors.toAddress(t);
    }
  }

  /**
   * {@code TRITONBACKEND_ModelInitialize}: parse and check the config (auto-complete it); the
   * model joins its cache group.
   */
  public static long modelInitialize(long model) {
    try {
      ModelState state = ModelState.create(Registry.get().anyBackend(),
          new TRITONBACKEND_Model(Handles.at(model)));
      Registry.get().putModel(model, state);
      return 0;
    } catch (Throwable t) {
      return Errors.toAddress(t);
    }
  }

  /** {@code TRITONBACKEND_ModelFinalize}: the model's cache group loses a user. */
  public static long modelFinalize(long model) {
    try {
      ModelState state = Registry.get().removeModel(model);
      if (state != null) {
        state.close();
      }
      return 0;
    } catch (Throwable t) {
      return Errors.toAddress(t);
    }
  }

  /** {@code TRITONBACKEND_ModelInstanceInitialize}: session, device, stream. */
  public static long instanceInitialize(long instance) {
    try {
      TRITONBACKEND_ModelInstance handle = new TRITONBACKEND_ModelInstance(Handles.at(instance));
      ModelState model = Registry.get().model(TritonCalls.instanceModel(handle));
      Registry.get().putInstance(instance,
          InstanceState.create(Registry.get().anyBackend(), model, handle));
      return 0;
    } catch (Throwable t) {
      return Errors.toAddress(t);
    }
  }

  /**
   * {@code TRITONBACKEND_ModelInstanceFinalize}: everything the instance holds is closed even when
   * some close fails; the error returned names every failure.
   */
  public static long instanceFinalize(long instance) {
    try {
      InstanceState state = Registry.get().removeInstance(instance);
      if (state != null) {
        state.close();
      }
      return 0;
    } catch (Throwable t) {
      return Errors.toAddress(t);
    }
  }

  /**
   * {@code TRITONBACKEND_ModelInstanceExecute}. An error returns only while no request has been
   * touched (an unknown instance, a failure before the first response exists), so Triton still
   * owns them and answers them; otherwise every request is answered and released by the
   * executor, exactly once, and this returns success whatever failed. {@code entered}: when the
   * shim's entry point began, on System.nanoTime's clock (Triton's exec_start).
   */
  public static long instanceExecute(long instance, long requests, int count, long entered) {
    try {
      InstanceState state = Registry.get().instance(instance);
      if (state == null) {
        throw new TritonException(TritonException.INTERNAL, "unknown model instance " + instance);
      }
      state.execute(requests, count, entered); // throws only before it touched a request
      return 0;
    } catch (Throwable t) {
      return Errors.toAddress(t);
    }
  }
}
