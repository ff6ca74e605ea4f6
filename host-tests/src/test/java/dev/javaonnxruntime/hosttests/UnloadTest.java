package dev.javaonnxruntime.hosttests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model unloaded while clients are still sending, as Triton unloads it: the requests queued or
 * executing at that moment are answered with their outputs, later ones are refused by the
 * server, none is lost, and then everything of the model is freed (its cache group's named
 * entries too) before finalize.
 */
class UnloadTest {
  private static final int UNLOAD_AFTER = 30;

  @TempDir Path dir;

  @Test
  void requestsInFlightAtUnloadAreAnsweredThenTheModelIsFreed() throws Exception {
    ObjectNode store = Repos.request("two_input/request_b1.json");
    store.putObject("parameters").put("input_cache_key.image", "kept");
    List<String> args = TritonHost.requests(Repos.write(dir, "store.json", store),
        "two_input/request_b1.json", "two_input/request_b2.json");
    args.addAll(List.of("--repeat", "100", "--concurrency", "4",
        "--unload-after", Integer.toString(UNLOAD_AFTER)));
    args.addAll(TritonHost.jvmOptions(TritonHost.NO_GC));
    TritonHost.Result r = TritonHost.infer(TritonHost.REPO, "two_input", args);

    assertEquals(1, r.exit(), r::toString); // 1: refused requests; 2 would be a contract breach
    Matcher m = Pattern.compile("infer: sent (\\d+), answered (\\d+), errors (\\d+)")
        .matcher(r.stderr());
    assertTrue(m.find(), r::toString);
    int sent = Integer.parseInt(m.group(1));
    int answered = Integer.parseInt(m.group(2));
    int errors = Integer.parseInt(m.group(3));
    assertEquals(300, sent, r::toString);
    assertEquals(sent, answered, "every request is answered, none lost");
    assertTrue(sent - errors >= UNLOAD_AFTER, () -> "answered before and during unload: "
        + (sent - errors) + "\n" + r);
    for (JsonNode line : r.lines()) {
      assertTrue(line.has("outputs")
          || line.path("error").asText().contains("is unloading and accepts no new requests"),
          () -> "an answer that is neither outputs nor the unload refusal: " + line);
    }
    assertTrue(r.stderr().contains("model 'two_input' was the last of cache group 'two_input': "
        + "1 named entries dropped; the caches now hold 0 bytes"), r::toString);
    // With no garbage collector: every pointer the model and the backend made was closed.
    assertTrue(r.stderr().contains(TritonHost.NOTHING_LEFT), r::toString);
    assertTrue(TritonHost.assertSettledOnce(r, "two_input") >= UNLOAD_AFTER, r::toString);
  }
}
