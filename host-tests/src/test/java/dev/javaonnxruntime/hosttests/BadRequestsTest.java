package dev.javaonnxruntime.hosttests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Malformed requests that reach the backend (the host's front-end checks are off, as for what
 * Triton lets through) fail alone: every good request sent with them in the same batches gets
 * its correct outputs, and the host sees no contract breach.
 */
class BadRequestsTest {
  @TempDir Path dir;

  @Test
  void badRequestsInABatchOfGoodOnesFailOnlyThemselves() throws Exception {
    ObjectNode good = Repos.request("text_encoder/request_b1.json");
    ObjectNode input = (ObjectNode) good.path("inputs").get(0);

    ObjectNode wrongType = good.deepCopy();
    ((ObjectNode) wrongType.path("inputs").get(0)).put("datatype", "INT32");

    ObjectNode wrongShape = good.deepCopy();
    ObjectNode ws = (ObjectNode) wrongShape.path("inputs").get(0);
    ws.putArray("shape").add(1).add(127);
    ArrayNode data = ws.putArray("data");
    for (int i = 0; i < 127; i++) {
      data.add(input.path("data").get(i).asLong());
    }

    ObjectNode wrongBytes = good.deepCopy();
    ObjectNode wb = (ObjectNode) wrongBytes.path("inputs").get(0);
    wb.remove("data");
    wb.put("raw_data_b64", Base64.getEncoder().encodeToString(new byte[100]));

    ObjectNode missing = good.deepCopy();
    missing.putArray("inputs");

    List<String> files = new ArrayList<>();
    files.add(TritonHost.TESTDATA.resolve("text_encoder/request_b1.json").toString());
    files.add(Repos.write(dir, "type.json", wrongType));
    files.add(TritonHost.TESTDATA.resolve("text_encoder/request_b2.json").toString());
    files.add(Repos.write(dir, "shape.json", wrongShape));
    files.add(Repos.write(dir, "bytes.json", wrongBytes));
    files.add(Repos.write(dir, "missing.json", missing));
    files.add(TritonHost.TESTDATA.resolve("text_encoder/request_b3.json").toString());
    List<String> args = TritonHost.requests(files.toArray(String[]::new));
    args.addAll(List.of("--no-frontend-checks", "--concurrency", "7", "--repeat", "3"));

    TritonHost.Result r = TritonHost.infer(TritonHost.REPO, "text_encoder", args);

    assertEquals(1, r.exit(), r::toString);
    Outputs.assertMatches(TritonHost.TESTDATA.resolve("text_encoder/expected_b1.json"), r.line(0));
    Outputs.assertMatches(TritonHost.TESTDATA.resolve("text_encoder/expected_b2.json"), r.line(2));
    Outputs.assertMatches(TritonHost.TESTDATA.resolve("text_encoder/expected_b3.json"), r.line(6));
    assertError(r, 1, "data-type is 'INT32'");
    assertError(r, 3, "unexpected shape");
    assertError(r, 4, "holds 100 bytes");
    assertError(r, 5, "missing input 'input_ids'");
  }

  private static void assertError(TritonHost.Result r, int line, String text) {
    String error = r.line(line).path("error").asText();
    assertTrue(error.contains(text), () -> "line " + line + ": expected an error with '" + text
        + "', got " + r.line(line));
  }
}
