/**
 * The read step of the request path: what one request of an Execute carries, once read, and
 * whether it may be served.
 *
 * <p>{@link dev.javaonnxruntime.read.RequestData} holds a request's inputs ({@link
 * dev.javaonnxruntime.read.InputView}: views of Triton's buffers, each buffer with its {@link
 * dev.javaonnxruntime.read.BufferLocation}), the cache keys and outputs it names, its rows and its
 * {@link dev.javaonnxruntime.read.Outcome}; {@link dev.javaonnxruntime.read.RequestChecker} checks
 * it against the model configuration, and {@link dev.javaonnxruntime.read.KeyParameters} says what
 * a key parameter is. The Triton calls that fill a {@code RequestData} are the boundary's ({@code
 * triton.RequestReader}): nothing here holds a Triton handle or calls Triton's API; failures are
 * {@link dev.javaonnxruntime.read.TritonException}s carrying the code a client sees ({@link
 * dev.javaonnxruntime.read.Failures} gives any exception its code and message).
 *
 * <p>Everything here lives for one Execute and is used on the instance's thread only.
 */
package dev.javaonnxruntime.read;
