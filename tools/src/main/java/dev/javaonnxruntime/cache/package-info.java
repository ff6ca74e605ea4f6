/**
 * The cache's benchmarks ({@code make bench}): {@link dev.javaonnxruntime.cache.HashBenchmark} and
 * {@link dev.javaonnxruntime.cache.HitBenchmark}, in the backend's package for its package-private
 * API, shipped in the tools jar and never in the directory Triton loads.
 */
package dev.javaonnxruntime.cache;
