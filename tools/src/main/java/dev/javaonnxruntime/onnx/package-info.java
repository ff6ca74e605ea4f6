/**
 * {@link dev.javaonnxruntime.onnx.GraphProbe}, which tries a model as a CUDA graph in a process of
 * its own (bench/gpu/graph_probe.sh): in the backend's package, shipped in the tools jar and never
 * in the directory Triton loads.
 */
package dev.javaonnxruntime.onnx;
