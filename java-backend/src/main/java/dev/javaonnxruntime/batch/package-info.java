/**
 * The batch step of the request path: assembles the resolved requests of one Execute into
 * batches, gathers each batch's inputs, and lays out how results split back per request.
 *
 * <p>Triton's dynamic batcher hands a backend several requests, each with its own tensors (it does
 * not merge them). {@link dev.javaonnxruntime.batch.Batcher} groups requests whose inputs agree in
 * every non-batch dimension, up to max_batch_size rows, into a {@link
 * dev.javaonnxruntime.batch.Batch}: the requests, their {@link dev.javaonnxruntime.batch.BatchLayout}
 * along the batch dimension (pure arithmetic, which the respond step slices outputs by), each
 * input's shape and the outputs wanted. {@link dev.javaonnxruntime.batch.Gatherer} binds or
 * concatenates each input of a batch into memory owned by the instance ({@link
 * dev.javaonnxruntime.batch.DeviceArena}). {@link dev.javaonnxruntime.batch.GraphPlan} decides per
 * batch shape whether it runs eagerly or as a CUDA graph.
 *
 * <p>Used on the instance's thread only; the arenas are closed with the instance.
 */
package dev.javaonnxruntime.batch;
