/**
 * The respond step of the request path: a batch's outputs back to its requests.
 *
 * <p>{@link dev.javaonnxruntime.respond.OutputWriter} slices each output by the batch's layout,
 * copies what a request asked for to the host (on a GPU through one pinned buffer, one stream
 * synchronisation per batch) and writes it into the request's response through a {@link
 * dev.javaonnxruntime.respond.ResponseSink} (the boundary's {@code triton.OwnedRequests}, which
 * holds the Triton handles). An output named with {@code output_cache_key.<output>} goes through
 * its own port, {@link dev.javaonnxruntime.respond.KeptOutputs}: into the device's cache ({@link
 * dev.javaonnxruntime.respond.CachedOutputs}) or refused where the instance has none.
 *
 * <p>Ownership: the writer owns its pinned buffer, closed with the instance; the outputs it reads
 * are views valid for the call. Used on the instance's thread only.
 */
package dev.javaonnxruntime.respond;
