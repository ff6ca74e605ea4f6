/**
 * The run step of the request path: one batch through ONNX Runtime, eagerly or as a CUDA graph.
 *
 * <p>{@link dev.javaonnxruntime.run.BatchRunner} runs each batch once: a graph replay where the
 * instance has one for the batch's shape, else eagerly with the gathered inputs bound where they
 * are; it hands the outputs to the respond step while they are valid, and runs a batch ONNX
 * Runtime refused again request by request. {@link dev.javaonnxruntime.run.GraphPath} is a GPU
 * instance's CUDA-graph runtime: fixed device buffers per captured batch shape and the binding
 * that replays the graph over them ({@link dev.javaonnxruntime.batch.GraphPlan} keeps the
 * decisions). {@link dev.javaonnxruntime.run.ComputeTimes} is what Triton's compute_infer reports.
 *
 * <p>Everything here belongs to one instance and is used on its execute thread only; it logs
 * through {@link dev.javaonnxruntime.lifecycle.Log}.
 */
package dev.javaonnxruntime.run;
