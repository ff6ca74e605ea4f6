/**
 * The Triton boundary: the only package that knows Triton exists.
 *
 * <p>The C shim calls {@link dev.javaonnxruntime.triton.BackendEntryPoints} with Triton's handles
 * as addresses. Each entry point finds its state through the one {@link
 * dev.javaonnxruntime.triton.Registry}, delegates, and maps any exception to a
 * {@code TRITONSERVER_Error} in one place ({@link dev.javaonnxruntime.triton.Errors}), so nothing
 * is ever left pending when control returns to C. State follows Triton's three levels: {@link
 * dev.javaonnxruntime.triton.BackendState} (ONNX Runtime, the per-device input caches),
 * {@link dev.javaonnxruntime.triton.ModelState} (the validated config, immutable once loaded) and
 * {@link dev.javaonnxruntime.triton.InstanceState} (session, device, stream, buffers; touched only
 * by the instance's own execute thread, so the execute path takes no locks of its own).
 *
 * <p>An instance's {@code execute.Executor} walks each Execute through the steps of the request
 * path, each a package of its own: {@code read} (what {@code execute.RequestReader} reads through
 * Triton's API), {@code resolve}, {@code batch}, {@code run} and {@code respond} (written into
 * responses through {@code execute.OwnedRequests} and {@code execute.Responder}). Those packages
 * hold no Triton handle, make no Triton call and import nothing of this package: their failures
 * are {@link dev.javaonnxruntime.read.TritonException}s (codes and messages from {@link
 * dev.javaonnxruntime.read.Failures}), which {@link dev.javaonnxruntime.triton.Errors} turns into
 * Triton's errors, and they log through {@link dev.javaonnxruntime.lifecycle.Log}, whose sink
 * {@link dev.javaonnxruntime.triton.Log} installs at backend start. The backend's figures go
 * through Triton's custom metrics API ({@code metrics}).
 *
 * <p>Triton's API is reached through a JavaCPP binding generated at build time from
 * {@code native/include/triton_api.h} ({@code dev.javaonnxruntime.triton.api}).
 */
package dev.javaonnxruntime.triton;
