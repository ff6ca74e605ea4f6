/**
 * Ownership at the end of a lifetime: closing chains that close everything whatever throws, and
 * the test seam that makes a chosen cleanup step throw.
 *
 * <p>Why it exists: an instance, a model, the backend and one Execute each end with a run of
 * cleanup steps (free this, close that, answer and release every request). A step that throws must
 * not skip the steps after it, or the rest leaks (or a request goes unanswered); and the only
 * proof that it does not is to make each step throw in a test. {@link
 * dev.javaonnxruntime.lifecycle.Closer} runs such a chain and reports every failure, the first
 * with the later ones suppressed; {@link dev.javaonnxruntime.lifecycle.Faults} is the seam, off
 * unless a system property arms it.
 *
 * {@link dev.javaonnxruntime.lifecycle.Log} is the log of the code behind the Triton boundary.
 *
 * <p>Depends on no other package of ours, so every package may use it.
 */
package dev.javaonnxruntime.lifecycle;
