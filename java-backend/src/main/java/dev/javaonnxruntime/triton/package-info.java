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
 * <p>Triton's API is reached through a JavaCPP binding generated at build time from
 * {@code native/include/triton_api.h} ({@code dev.javaonnxruntime.triton.api}).
 */
package dev.javaonnxruntime.triton;
