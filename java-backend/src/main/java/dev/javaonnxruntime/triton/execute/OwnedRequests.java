package dev.javaonnxruntime.triton.execute;

import static dev.javaonnxruntime.triton.api.global.TritonApiLib.*;

import dev.javaonnxruntime.config.DataType;
import dev.javaonnxruntime.lifecycle.Closer;
import dev.javaonnxruntime.lifecycle.Faults;
import dev.javaonnxruntime.read.Failures;
import dev.javaonnxruntime.read.RequestData;
import dev.javaonnxruntime.read.TritonException;
import dev.javaonnxruntime.respond.ResponseSink;
import dev.javaonnxruntime.run.ComputeTimes;
import dev.javaonnxruntime.triton.Errors;
import dev.javaonnxruntime.triton.Log;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_ModelInstance;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_Request;
import dev.javaonnxruntime.triton.api.TRITONBACKEND_Response;
import java.util.ArrayList;
import java.util.List;

/**
 * The requests of one Execute from the moment the backend takes them (before any call on them)
 * to the end of the call, their responses ({@link #open}), and, per request, whether it has been
 * answered and released. It holds their Triton handles (request and response, by the index of
 * each {@link RequestData}), so the steps of the request path need none: the respond step writes
 * through it as a {@link ResponseSink}.
 *
 * <p>Why it exists: Triton's rule. Once Execute returns success every request must get exactly
 * one final response and be released exactly once; had it returned an error, Triton would answer
 * and release them all itself. So from {@link #take} on the Execute returns success, and {@link
 * #close} keeps the rule whatever threw before it: it answers each unanswered request with its
 * error (or the failure that stopped the Execute) and releases each unreleased one, logging what
 * fails instead of throwing. A response counts as answered once {@code ResponseSend} was called,
 * whatever it returned (Triton has taken it); a request as released once {@code RequestRelease}
 * succeeded (a failed release leaves the request ours, so it is tried again at the close).
 *
 * <p>{@link #answer} and {@link #release} are the normal path and carry the fault seam's steps
 * {@code response.send}, {@code response.sent}, {@code request.statistics}, {@code
 * request.release} and {@code request.released} (before and after the Triton call); the close
 * does not, so it always gets its chance. Failures of cleanup steps are collected in {@link
 * #cleanup()}, the first with the later ones suppressed, and logged once by the executor. Lives
 * for one Execute on the instance's thread.
 */
final class OwnedRequests implements ResponseSink, AutoCloseable {
  final List<RequestData> requests;
  private final List<TRITONBACKEND_Request> handles;
  /** Each request's response while it is ours; null before {@link #open} and once sent. */
  private final TRITONBACKEND_Response[] responses;
  /** Whether {@link #open} ran. */
  private boolean opened;
  private final String model;
  private final TRITONBACKEND_ModelInstance instance;
  private final Responder responder;
  private final boolean[] answered;
  /** Answered with outputs and no error: what the request's statistics report. */
  private final boolean[] succeeded;
  private final boolean[] reported;
  private final boolean[] released;
  private final Closer cleanup = new Closer("execute");
  /** When the Execute started (nanoseconds). */
  final long execStart;
  /** When its first ORT run started and its last one ended. */
  final ComputeTimes times;

  private OwnedRequests(List<TRITONBACKEND_Request> handles, String model,
      TRITONBACKEND_ModelInstance instance, Responder responder, long execStart) {
    int n = handles.size();
    this.handles = handles;
    this.requests = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      requests.add(new RequestData(i));
    }
    this.responses = new TRITONBACKEND_Response[n];
    this.model = model;
    this.instance = instance;
    this.responder = responder;
    this.execStart = execStart;
    this.times = new ComputeTimes(execStart);
    answered = new boolean[n];
    succeeded = new boolean[n];
    reported = new boolean[n];
    released = new boolean[n];
  }

  /**
   * Takes the Execute's requests: from here on they are ours and this never throws. It makes no
   * call to Triton: the responses are made by {@link #open}, once the first batch is under way.
   */
  static OwnedRequests take(List<TRITONBACKEND_Request> handles, String model,
      TRITONBACKEND_ModelInstance instance, Responder responder, long execStart) {
    return new OwnedRequests(handles, model, instance, responder, execStart);
  }

  /**
   * Creates every response not made yet ({@code TRITONBACKEND_ResponseNew}); once per Execute,
   * before its first results are written. The run step calls it after a CUDA graph's replay,
   * while the copies back of its outputs run (and before an eager run, as the stock backend makes
   * its responses before its inputs). A request whose response Triton refuses keeps none; writing
   * or answering it tries once more.
   */
  void open() {
    if (opened) {
      return;
    }
    opened = true;
    for (int i = 0; i < responses.length; i++) {
      if (responses[i] != null || answered[i]) {
        continue;
      }
      try {
        responses[i] = responder.open(handles.get(i));
      } catch (Throwable t) {
        Log.error("model '" + model + "': cannot create a response: " + Failures.messageOf(t));
      }
    }
  }

  /** The failures of this Execute's cleanup steps (the first, later ones suppressed). */
  Closer cleanup() {
    return cleanup;
  }

  /** The Triton handle of request {@code r}. */
  TRITONBACKEND_Request handle(RequestData r) {
    return handles.get(r.index);
  }

  /** Gives every request that has not failed yet the error {@code t}. */
  void failAll(Throwable t) {
    TritonException e = Failures.asTriton(t);
    requests.forEach(r -> r.fail(e));
  }

  @Override
  public void writeOutput(RequestData r, String name, DataType type, long[] shape, long src,
      long byteSize) {
    responder.writeOutput(response(r.index), name, type, shape, src, byteSize);
  }

  /** Request {@code i}'s response, made now if it was not made yet or Triton refused it at open. */
  private TRITONBACKEND_Response response(int i) {
    if (responses[i] == null) {
      responses[i] = responder.open(handles.get(i));
    }
    return responses[i];
  }

  /** Sends request {@code i}'s response (once); throws when it could not go. */
  void answer(int i) {
    if (answered[i]) {
      return;
    }
    Faults.at("response.send");
    deliver(i);
    Faults.at("response.sent");
  }

  /** Reports request {@code i}'s statistics (once), then releases it (once); throws on failure. */
  void release(int i, long execEnd) {
    if (released[i]) {
      return;
    }
    if (!reported[i]) {
      reported[i] = true;
      Faults.at("request.statistics");
      report(i, execEnd);
    }
    Faults.at("request.release");
    free(i);
    Faults.at("request.released");
  }

  private void deliver(int i) {
    response(i);
    try {
      succeeded[i] = responder.send(responses, i, requests.get(i).error());
    } finally {
      answered[i] = responses[i] == null;
    }
  }

  private void report(int i, long execEnd) {
    Log.errorIfFailed(TRITONBACKEND_ModelInstanceReportStatistics(instance, handles.get(i),
        succeeded[i], execStart, times.start(), times.end(), execEnd), model,
        "TRITONBACKEND_ModelInstanceReportStatistics");
  }

  private void free(int i) {
    String error = Errors.checkQuietly(TRITONBACKEND_RequestRelease(handles.get(i),
        TRITONSERVER_REQUEST_RELEASE_ALL));
    if (error != null) {
      throw new TritonException(TritonException.INTERNAL, "TRITONBACKEND_RequestRelease: " + error);
    }
    released[i] = true;
  }

  /** The rows of the requests answered with outputs (the batch's statistics). */
  long succeededRows() {
    long rows = 0;
    for (int i = 0; i < answered.length; i++) {
      rows += succeeded[i] ? requests.get(i).batch : 0;
    }
    return rows;
  }

  /**
   * Answers every request not answered yet, with its error or the failure that stopped this
   * Execute, and releases every request not released yet (statistics first, when they were not
   * reported). Never throws: what fails here is logged, since nothing else can be done with it.
   */
  @Override
  public void close() {
    long execEnd = System.nanoTime();
    for (int i = 0; i < requests.size(); i++) {
      RequestData r = requests.get(i);
      if (!answered[i]) {
        try {
          r.fail(Failures.asTriton(cleanup.failure() != null ? cleanup.failure()
              : new IllegalStateException("the Execute ended before this request was answered")));
          deliver(i);
        } catch (Throwable t) {
          Log.error("model '" + model + "': a request could not be answered: "
              + Failures.messageOf(t));
          answered[i] = true; // there is nothing more to try
        }
      }
      if (!released[i]) {
        try {
          if (!reported[i]) {
            reported[i] = true;
            report(i, execEnd);
          }
          free(i);
        } catch (Throwable t) {
          Log.error("model '" + model + "': a request could not be released: "
              + Failures.messageOf(t));
        }
      }
    }
  }
}
