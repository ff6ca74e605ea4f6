package dev.javaonnxruntime.cache;

import java.util.Objects;

/**
 * What a cached input is found by: its content or a name the client chose.
 *
 * <p>Why two kinds: a {@link Content} key (scope, keyed hash, layout) lets the models of a cache
 * group reuse identical inputs without the client doing anything; a {@link Named} key lets a client
 * that knows an input repeats name it, so the bytes are neither hashed nor sent again. Both live in
 * a cache group (by default the model name; models may share one), and the group is part of the
 * key: a request of one group can neither read nor replace another group's entries, nor learn from
 * a hit that another group sent the same bytes. Only content keys in the {@link #SHARED} scope
 * (models configured with {@code input_cache_share_content: "true"}) are seen by every sharing
 * model of the device. Immutable values.
 */
public sealed interface CacheKey permits CacheKey.Content, CacheKey.Named {

  /**
   * The scope of content entries shared device-wide by every model that asks for it. No cache
   * group is empty (an empty {@code input_cache_group} means the model's name), so it is never
   * confused with a group.
   */
  String SHARED = "";

  /**
   * A key by content in {@code scope} (a cache group, or {@link #SHARED}); equal only for equal
   * scope, hash, data type and shape.
   */
  static Content content(String scope, Hash128 hash, TensorLayout layout) {
    return new Content(scope, hash, layout);
  }

  /** A key by client-chosen {@code name} in cache {@code group}. */
  static Named named(String group, String name) {
    return new Named(group, name);
  }

  /**
   * A content key.
   *
   * @param scope the cache group whose models may find the entry, or {@link #SHARED}
   * @param hash the keyed hash of the input bytes ({@link ContentHasher})
   * @param layout the data type and shape the bytes were sent with
   */
  record Content(String scope, Hash128 hash, TensorLayout layout) implements CacheKey {
    /** Rejects missing parts. */
    public Content {
      Objects.requireNonNull(scope, "scope");
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
