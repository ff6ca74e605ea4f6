package dev.javaonnxruntime.read;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the read step found in one request of an Execute: its inputs (views of Triton's buffers),
 * the cache keys its client named, the outputs it asked for, its batch size, and its {@link
 * Outcome}. Knows no Triton handle: the boundary ({@code triton.OwnedRequests}) finds the
 * request's handles by its {@link #index}. Filled by {@code triton.RequestReader} and {@link
 * RequestChecker}, read by the later steps; lives for one Execute on the instance thread.
 */
public final class RequestData {
  /** The request's place in its Execute (Triton's order). */
  public final int index;
  /** The inputs the request carries, by name. */
  public final Map<String, InputView> inputs = new LinkedHashMap<>();
  /** See {@link #cacheKeys()}; replaced, not changed, until it holds two keys. */
  private Map<String, String> cacheKeys = Map.of();
  /** See {@link #outputKeys()}; as {@link #cacheKeys}. */
  private Map<String, String> outputKeys = Map.of();
  /** The outputs the request asked for, in its order. */
  public List<String> requestedOutputs = List.of();
  /**
   * Its rows: dimension 0 of its inputs in a batching model, else 1 (set by the checker, corrected
   * by the resolve step from a cached tensor's shape).
   */
  public long batch = 1;
  private Outcome outcome = Outcome.OK;

  /** The request at {@code index} of its Execute, nothing read yet. */
  public RequestData(int index) {
    this.index = index;
  }

  /**
   * Input name to the key named by the request parameter {@code input_cache_key.<input>}, in the
   * order the request named them. Read it; {@link #putCacheKey} adds to it.
   */
  public Map<String, String> cacheKeys() {
    return cacheKeys;
  }

  /**
   * Output name to the key named by {@code output_cache_key.<output>}: kept resident under it.
   * Read it; {@link #putOutputKey} adds to it.
   */
  public Map<String, String> outputKeys() {
    return outputKeys;
  }

  /** Records that the request names {@code key} for input {@code input} (a later one wins). */
  public void putCacheKey(String input, String key) {
    cacheKeys = with(cacheKeys, input, key);
  }

  /** Records that the request names {@code key} for output {@code output} (a later one wins). */
  public void putOutputKey(String output, String key) {
    outputKeys = with(outputKeys, output, key);
  }

  /**
   * {@code keys} with {@code name} mapped to {@code key}. Most requests name one key or none, so
   * the first is an immutable one-entry map (no hash table made for each request); from the second
   * on they are in a LinkedHashMap of this request's own.
   */
  private static Map<String, String> with(Map<String, String> keys, String name, String key) {
    if (keys.isEmpty()) {
      return Map.of(name, key);
    }
    Map<String, String> own = keys instanceof LinkedHashMap ? keys : new LinkedHashMap<>(keys);
    own.put(name, key);
    return own;
  }

  /** Its outcome so far. */
  public Outcome outcome() {
    return outcome;
  }

  /** Whether it has failed. */
  public boolean failed() {
    return outcome instanceof Outcome.Failed;
  }

  /** Its error once it has failed, else null. */
  public TritonException error() {
    return outcome instanceof Outcome.Failed f ? f.error() : null;
  }

  /** Records the first failure of this request; later ones are consequences of it. */
  public void fail(TritonException e) {
    if (outcome instanceof Outcome.Ok) {
      outcome = new Outcome.Failed(e);
    }
  }
}
