package dev.javaonnxruntime.cache;

import java.util.Objects;

/**
 * What a cached input is found by: its content or a name the client chose.
 *
 * <p>Why two kinds: a {@link Content} key (hash plus layout) lets every model on the device share
 * identical inputs without the client doing anything; a {@link Named} key lets a client that knows
 * an input repeats name it, so the bytes are neither hashed nor sent again. Named keys live in a
 * cache group (by default the model name; models may share one), and the group is part of the key:
 * a request of one group can neither read nor replace another group's entries. Immutable values.
 */
public sealed interface CacheKey permits CacheKey.Content, CacheKey.Named {

  /** A key by content; equal only for equal hash, data type and shape. */
  static Content content(Hash128 hash, TensorLayout layout) {
    return new Content(hash, layout);
  }

  /** A key by client-chosen {@code name} in cache {@code group}. */
  static Named named(String group, String name) {
    return new Named(group, name);
  }

  /**
   * A content key.
   *
   * @param hash the hash of the input bytes ({@link ContentHasher})
   * @param layout the data type and shape the bytes were sent with
   */
  record Content(Hash128 hash, TensorLayout layout) implements CacheKey {
    /** Rejects missing parts. */
    public Content {
      Objects.requireNonNull(hash, "hash");
      Objects.requireNonNull(layout, "layout");
    }
  }

  /**
   * A named key.
   *
   * @param group the cache group (model name unless configured)
   * @param name the name the client gave the input
   */
  record Named(String group, String name) implements CacheKey {
    /** Rejects missing parts. */
    public Named {
      Objects.requireNonNull(group, "group");
      Objects.requireNonNull(name, "name");
    }
  }
}
