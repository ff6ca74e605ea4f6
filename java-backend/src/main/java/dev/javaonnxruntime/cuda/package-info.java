/**
 * Device memory, streams and staging buffers: the only package besides {@code onnx} that talks to
 * CUDA (through the JavaCPP cudart preset).
 *
 * <p>Why it exists: the input cache and the execute path must move bytes between host and device
 * without knowing whether an instance runs on a GPU ({@link dev.javaonnxruntime.cuda.CudaMemory})
 * or on the CPU ({@link dev.javaonnxruntime.cuda.HostMemory}, which is also what every test without
 * a GPU uses). Both implement {@link dev.javaonnxruntime.cuda.DeviceMemory}.
 *
 * <p>Ownership: memory is named by raw {@code long} addresses. Whoever calls {@code allocate} owns
 * the block until it calls {@code free}; the input cache is the owner of all cached blocks.
 * Streams, fences and staging buffers are {@link java.lang.AutoCloseable} owners of their native
 * handle; nothing here relies on the garbage collector. Address views ({@code NativeAddress})
 * never free; {@link dev.javaonnxruntime.cuda.HostBytes} copies host bytes by address for the
 * packages that import no JavaCPP.
 *
 * <p>Errors: a failed allocation is a checked {@link
 * dev.javaonnxruntime.cuda.DeviceAllocationException} (the cache recovers by evicting); every
 * other CUDA failure is a {@link dev.javaonnxruntime.cuda.CudaException} carrying the error name
 * and text from {@code cudaGetErrorString}.
 */
package dev.javaonnxruntime.cuda;
