package dev.javaonnxruntime.read;


/**
 * How one request of an Execute stands: nothing has failed it yet ({@link Ok}), or it has failed
 * ({@link Failed}) and its response carries that error instead of outputs. A request fails once:
 * its first failure is kept, later ones are consequences of it. Immutable values; the request's
 * {@link RequestData} holds the current one.
 */
public sealed interface Outcome {
  /** Not failed: the request is answered with the outputs it asked for. */
  Ok OK = new Ok();

  /** Not failed (so far). */
  record Ok() implements Outcome {}

  /**
   * Failed, answered with {@code error}.
   *
   * @param error what the response carries
   */
  record Failed(TritonException error) implements Outcome {}
}
