/**
 * Assembles the requests of one Execute into batches and splits results back per request.
 *
 * <p>Triton's dynamic batcher hands a backend several requests, each with its own tensors (it does
 * not merge them). Requests whose inputs agree in every non-batch dimension are concatenated along
 * the batch dimension into one run; each response then gets its own slice of every output. The
 * layout arithmetic is pure ({@link dev.javaonnxruntime.batch.BatchLayout}); the memory a batch is
 * gathered into is owned by the instance ({@link dev.javaonnxruntime.batch.DeviceArena}).
 */
package dev.javaonnxruntime.batch;
