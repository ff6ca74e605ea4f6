package dev.javaonnxruntime.hosttests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every request is answered once and released once, whatever throws after the responses exist.
 * Each cleanup step of an Execute, and each element of the instance, model and backend close
 * chains, is made to fail once through the backend's fault seam (system property
 * java_onnxruntime.test.fault, set with jvm-options). The host counts per model what Execute left
 * with the backend, what it answered and what it released, and reports a second response, a
 * second release or a release without a response as a contract breach. The request the fault hit
 * gets an error where its answer was in doubt, every other request its reference outputs, and
 * finalize still leaves no native memory behind, with the garbage collector taken away.
 */
class ExactlyOnceTest {
  private static final String[] REQUESTS = {"two_input/request_b1.json", "two_input/request_b2.json",
      "two_input/request_b3.json", "two_input/request_b1.json"};
  private static final String[] EXPECTED = {"two_input/expected_b1.json", "two_input/expected_b2.json",
      "two_input/expected_b3.json", "two_input/expected_b1.json"};

  @TempDir Path dir;

  /** two_input with one instance (so the n-th Execute serves the n-th request) and content keys. */
  private Path repo() throws Exception {
    String config = Repos.exampleConfig("two_input", "count: 2", "count: 1")
        + "parameters { key: \"input_cache\" value: { string_value: \"content\" } }\n";
    return Repos.withConfig(dir, "two_input", "two_input", config);
  }

  private TritonHost.Result run(String fault, String... files) throws Exception {
    List<String> args = TritonHost.requests(files);
    args.addAll(TritonHost.jvmOptions(TritonHost.NO_GC, "-Djava_onnxruntime.test.fault=" + fault));
    return TritonHost.infer(repo(), "two_input", args);
  }

  /** Request {@code failed} (-1: none) has the fault's error, every other its reference outputs. */
  private static void assertAnswers(TritonHost.Result r, String step, int failed) throws Exception {
    assertEquals(REQUESTS.length, r.lines().size(), r::toString);
    for (int i = 0; i < REQUESTS.length; i++) {
      if (i == failed) {
        String error = r.line(i).path("error").asText();
        assertTrue(error.contains("injected fault at " + step), () -> "request " + failed + ": " + r);
        assertEquals("INTERNAL", r.line(i).path("code").asText(), r::toString);
      } else {
        Outputs.assertMatches(TritonHost.TESTDATA.resolve(EXPECTED[i]), r.line(i));
      }
    }
    assertEquals(failed >= 0 ? 1 : 0, r.exit(), r::toString);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({
    // step@n (the n-th time the step is reached it throws), the request that gets the error
    "execute.sync@2, 1",
    "execute.stager-finish@2, 1",
    "lease.close@3, 1", // two leases a request (image, bias): the 3rd is the second request's
    "stager.finish.lease@3, 1",
    "execute.scatter@2, 1",
    "response.send@2, 1",
    "execute.answer@2, -1", // after the send: the answer stands, it is not sent again
    "response.sent@2, -1",
    "execute.metrics@2, -1",
    "request.statistics@2, -1",
    "request.release@2, -1", // the release is tried again: released once
    "request.released@2, -1", // after the release: not released again
    "execute.release@2, -1",
    "execute.batch-statistics@2, -1",
    "execute.scope@2, -1",
  })
  void everyRequestIsAnsweredAndReleasedOnceWhenAnExecuteStepFails(String fault, int failed)
      throws Exception {
    TritonHost.Result r = run(fault, REQUESTS);

    String step = fault.substring(0, fault.indexOf('@'));
    assertAnswers(r, step, failed);
    TritonHost.assertSettledOnce(r, "two_input", REQUESTS.length);
    // A step whose failure costs no answer (or one after the run, a cleanup step) is logged.
    assertTrue(step.equals("execute.scatter")
        || r.stderr().contains("cleanup of an Execute failed: injected fault at " + step),
        () -> "the failure is logged\n" + r);
    assertTrue(r.stderr().contains(TritonHost.NOTHING_LEFT), r::toString);
  }

  @Test
  void aFreeFailingWhenALeaseClosesFailsOnlyItsRequest() throws Exception {
    // Both inputs under one named key: the bias replaces the image's entry while the image's
    // lease still pins it, so closing that lease at the end of the Execute frees the block.
    ObjectNode sameKey = Repos.request("two_input/request_b2.json");
    sameKey.putObject("parameters").put("input_cache_key.image", "k").put("input_cache_key.bias", "k");
    TritonHost.Result r = run("memory.free@1", REQUESTS[0], Repos.write(dir, "same_key.json", sameKey),
        REQUESTS[2], REQUESTS[3]);

    assertAnswers(r, "memory.free", 1);
    TritonHost.assertSettledOnce(r, "two_input", REQUESTS.length);
    assertTrue(r.stderr().contains(TritonHost.NOTHING_LEFT), r::toString);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"instance.close.sync", "instance.close.executor", "instance.close.stager",
      "instance.close.session", "instance.close.stream", "executor.close.reader",
      "executor.close.writer", "session.close.binding", "session.close.session",
      "session.close.eager", "model.close.unload", "backend.close.cache", "backend.close.metrics",
      "backend.close.hasher", "backend.close.ort"})
  void aFailingCloseStillClosesEverythingAfterItAndIsReported(String step) throws Exception {
    TritonHost.Result r = run(step + "@1", REQUESTS);

    assertAnswers(r, step, -1);
    TritonHost.assertSettledOnce(r, "two_input", REQUESTS.length);
    String finalizing = step.startsWith("backend.") ? "failed finalizing backend"
        : step.startsWith("model.") ? "failed finalizing model" : "failed finalizing instance";
    assertTrue(r.stderr().contains(finalizing), () -> "Triton is told\n" + r);
    assertTrue(r.stderr().contains("injected fault at " + step), r::toString);
    // Had the chain stopped at the fault, what it closes after it would still be counted here.
    assertTrue(r.stderr().contains(TritonHost.NOTHING_LEFT), r::toString);
  }

  @Test
  void everyFailureOfOneCloseChainIsReportedNotOnlyTheFirst() throws Exception {
    TritonHost.Result r = run("instance.close.sync@1,instance.close.session@1", REQUESTS);

    assertAnswers(r, "", -1);
    String line = r.stderr().lines().filter(l -> l.contains("failed finalizing instance"))
        .findFirst().orElse("");
    assertTrue(line.contains("injected fault at instance.close.sync")
        && line.contains("; then: ") && line.contains("injected fault at instance.close.session"),
        r::toString);
    assertTrue(r.stderr().contains(TritonHost.NOTHING_LEFT), r::toString);
  }

  @Test
  void aFailedAnswerInABatchCostsThatRequestOnly() throws Exception {
    String config = Repos.exampleConfig("two_input", "max_queue_delay_microseconds: 2000",
        "max_queue_delay_microseconds: 200000").replace("count: 2", "count: 1");
    Repos.withConfig(dir, "two_input", "two_input", config);
    List<String> args = TritonHost.requests(REQUESTS);
    args.addAll(List.of("--concurrency", "4"));
    args.addAll(TritonHost.jvmOptions(TritonHost.NO_GC,
        "-Djava_onnxruntime.test.fault=response.send@2"));
    TritonHost.Result r = TritonHost.infer(dir, "two_input", args);

    List<Integer> errors = new ArrayList<>();
    for (int i = 0; i < REQUESTS.length; i++) {
      JsonNode line = r.line(i);
      if (line.has("error")) {
        assertTrue(line.path("error").asText().contains("injected fault at response.send"), r::toString);
        errors.add(i);
      } else {
        Outputs.assertMatches(TritonHost.TESTDATA.resolve(EXPECTED[i]), line);
      }
    }
    assertEquals(1, errors.size(), r::toString);
    TritonHost.assertSettledOnce(r, "two_input", REQUESTS.length);
  }
}
