package dev.javaonnxruntime.resolve;

import dev.javaonnxruntime.cache.ContentHasher;
import dev.javaonnxruntime.config.TensorConfig;
import dev.javaonnxruntime.read.InputView;
import dev.javaonnxruntime.read.RequestData;
import java.util.Map;

/**
 * Where the {@link InputStager} looks for an input before it takes the request's own bytes: the
 * device's input cache ({@link CacheLookup}), or nowhere ({@link #NONE}). The stager asks, this
 * answers: a strategy it is composed with, not a subclass of it.
 */
public interface InputLookup {
  /**
   * The source of input {@code c} of request {@code r} ({@code v}, null when the request did not
   * send it) when this lookup serves it, else null: the stager then takes the request's bytes.
   * Throws what fails the request alone.
   */
  InputSource find(RequestData r, TensorConfig c, InputView v) throws Exception;

  /**
   * The rows of request {@code r} whose inputs are at {@code sources}; throws when they disagree.
   * Without the cache the checker's count stands (every input was sent).
   */
  default long rows(RequestData r, Map<String, InputSource> sources) {
    return r.batch;
  }

  /**
   * An Execute begins, before its requests are read: a lookup that hashes wakes its hasher's
   * helpers for the largest input it hashed in the Execute before ({@link ContentHasher#wake}).
   */
  default void expect() {}

  /** After the stream was synchronised: releases what the Execute pinned; throws the first failure. */
  default void finish() {}

  /**
   * No lookup: every input comes from the request, and an input it did not send fails it
   * (NOT_FOUND, naming the input).
   */
  InputLookup NONE = (r, c, v) -> null;
}
