/**
 * ONNX Runtime through the JavaCPP preset: one session per model instance, bound with IoBinding to
 * memory we own (Triton's request buffers, the input cache, staging buffers), on the CPU or on the
 * CUDA execution provider with the instance's own stream.
 *
 * <p>Microsoft's Java API has no IoBinding and cannot wrap raw device memory, which is why the
 * JavaCPP preset is used. Every ORT object of one run lives in a {@code PointerScope} that closes
 * when the run's outputs have been consumed; long-lived objects (environment, session, binding)
 * belong to an {@code AutoCloseable} owner closed from instance or backend finalize.
 */
package dev.javaonnxruntime.onnx;
