/**
 * The resolve step of the request path: where each input of a checked request comes from.
 *
 * <p>{@link dev.javaonnxruntime.resolve.InputStager} asks its {@link
 * dev.javaonnxruntime.resolve.InputLookup} first: the device's input cache ({@link
 * dev.javaonnxruntime.resolve.CacheLookup}: named keys, content hashing, the {@code auto} policy
 * in this instance's {@link dev.javaonnxruntime.resolve.CacheUse}) or nothing. Otherwise it takes
 * the request's own buffers by the instance's {@link dev.javaonnxruntime.resolve.InputPlacement}
 * rule. The answer is a {@link dev.javaonnxruntime.resolve.ResolvedRequest}: one sealed {@link
 * dev.javaonnxruntime.resolve.InputSource} per input, the request's buffers or a resident cache
 * entry. {@link dev.javaonnxruntime.resolve.InputCopier} copies buffers into the instance's memory
 * by their route (pageable host bytes through the pinned {@link
 * dev.javaonnxruntime.resolve.StagingArea}), for the cache here and for the batch step's gather.
 *
 * <p>Ownership: the stager owns the copier (staging buffer, device reader), closed with the
 * instance; the cache entries an Execute pins are held in {@link dev.javaonnxruntime.resolve.Leases}
 * until the stager's finish, after the stream was synchronised. Used on the instance's thread only.
 */
package dev.javaonnxruntime.resolve;
