package dev.javaonnxruntime.hosttests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An error names only what its own request sent: never another client's key names, never
 * another request's tensor values, even when the two requests share a cache group or a batch.
 */
class ErrorIsolationTest {
  private static final String SECRET_KEY = "alice-secret-key";
  private static final double SECRET_VALUE = 12345.678;

  @TempDir Path dir;

  @Test
  void errorsNeverEchoAnotherRequestsKeysOrData() throws Exception {
    // Alice stores her image under a key, with a distinctive bias.
    ObjectNode alice = Repos.request("two_input/request_b1.json");
    alice.putObject("parameters").put("input_cache_key.image", SECRET_KEY);
    bias(alice).removeAll().add(SECRET_VALUE).add(SECRET_VALUE).add(SECRET_VALUE).add(SECRET_VALUE);

    // Bob, in the same model and cache group: a key nobody stored, then a key of the wrong type.
    ObjectNode unknown = Repos.without(Repos.request("two_input/request_b1.json"), "image");
    unknown.putObject("parameters").put("input_cache_key.image", "bob-key");
    ObjectNode wrongType = Repos.without(Repos.request("two_input/request_b1.json"), "image");
    wrongType.putObject("parameters").put("input_cache_key.image", 7);

    List<String> args = TritonHost.requests(Repos.write(dir, "alice.json", alice),
        Repos.write(dir, "unknown.json", unknown), Repos.write(dir, "type.json", wrongType),
        Repos.write(dir, "alice2.json", alice));
    args.addAll(List.of("--no-frontend-checks"));
    TritonHost.Result r = TritonHost.infer(TritonHost.REPO, "two_input", args);

    assertEquals(1, r.exit(), r::toString);
    assertTrue(r.line(0).has("outputs"), r::toString);
    assertTrue(r.line(3).has("outputs"), r::toString);
    String notFound = r.line(1).path("error").asText();
    String badType = r.line(2).path("error").asText();
    assertTrue(notFound.contains("bob-key"), () -> "its own key is named: " + notFound);
    assertTrue(badType.contains("must be a string"), () -> badType);
    assertEquals("NOT_FOUND", r.line(1).path("code").asText(), r::toString);
    assertEquals("INVALID_ARG", r.line(2).path("code").asText(), r::toString);
    for (String error : List.of(notFound, badType)) {
      assertFalse(error.contains("alice") || error.contains("secret"),
          () -> "an error names another request's key: " + error);
      assertFalse(error.contains("12345"), () -> "an error holds another request's data: " + error);
    }
  }

  private static ArrayNode bias(ObjectNode request) {
    for (JsonNode in : request.path("inputs")) {
      if (in.path("name").asText().equals("bias")) {
        return (ArrayNode) in.path("data");
      }
    }
    throw new IllegalArgumentException("no bias input");
  }
}
