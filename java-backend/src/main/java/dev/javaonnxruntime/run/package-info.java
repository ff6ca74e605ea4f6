/**
 * The run step of the request path: one batch through ONNX Runtime, eagerly or as a CUDA graph.
 *
 * <p>{@link dev.javaonnxruntime.run.GraphPath} is a GPU instance's CUDA-graph runtime: fixed
 * device buffers per captured batch shape and the binding that replays the graph over them ({@link
 * dev.javaonnxruntime.batch.GraphPlan} keeps the decisions). It belongs to the instance, is used on
 * its execute thread only, and logs through the boundary's {@code triton.Log}.
 */
package dev.javaonnxruntime.run;
