/**
 * The device input cache: request inputs that are already on a device stay there, one cache for
 * every model on that device, so identical inputs are not copied from the host again.
 *
 * <p>Pieces: {@link dev.javaonnxruntime.cache.InputCache} (one per device, owned by the backend
 * state and closed at backend finalize) holds entries under a {@link
 * dev.javaonnxruntime.cache.CacheKey}: by content ({@link dev.javaonnxruntime.cache.ContentHasher}
 * hashes the bytes with native XXH3-128 keyed with a secret drawn at backend start, in parallel
 * chunks for large inputs) or by a name the client chose; both are scoped to a cache group, content
 * keys to a device-wide shared scope where the model asks for it. A hit or a store returns a {@link
 * dev.javaonnxruntime.cache.Lease} that pins the entry until the caller's stream work is done.
 * {@link dev.javaonnxruntime.config.CacheMode} and {@link dev.javaonnxruntime.cache.AutoHashPolicy}
 * decide per model input whether to use the cache; {@link dev.javaonnxruntime.cache.CacheStats}
 * counts what it saved.
 *
 * <p>Ownership: the cache owns all device memory it allocates (through {@code
 * dev.javaonnxruntime.cuda.DeviceMemory}) and frees a block only when its entry is out of the map
 * and unpinned; nothing waits for the garbage collector. Host input buffers are views owned by
 * Triton's request.
 *
 * <p>Threads: the cache, the hasher and the stats are thread-safe; leases may be closed from any
 * thread. A policy belongs to one instance and is used on its thread only.
 *
 * <p>Dependencies: this package uses {@code cuda} and, for the one native hashing class, JavaCPP
 * annotations; it knows nothing of Triton or ONNX Runtime.
 */
package dev.javaonnxruntime.cache;
