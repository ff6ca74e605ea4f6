/**
 * The backend's figures in Triton's custom metrics API: {@link
 * dev.javaonnxruntime.triton.metrics.Metrics} (the families and handles, owned by the backend
 * state) and {@link dev.javaonnxruntime.triton.metrics.InstanceMetrics} (what one instance pushes
 * at the end of each of its Executes, without a lock).
 */
package dev.javaonnxruntime.triton.metrics;
