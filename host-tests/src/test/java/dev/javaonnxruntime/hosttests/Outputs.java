package dev.javaonnxruntime.hosttests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;

/** Compares a v2 JSON response with an expected file ({@code outputs}, {@code rtol}, {@code atol}). */
final class Outputs {
  private Outputs() {}

  static void assertMatches(Path expectedFile, JsonNode response) throws IOException {
    JsonNode expected = TritonHost.JSON.readTree(expectedFile.toFile());
    assertTrue(response.path("error").isMissingNode(), () -> "request failed: " + response);
    double rtol = expected.path("rtol").asDouble(0);
    double atol = expected.path("atol").asDouble(0);
    for (JsonNode want : expected.path("outputs")) {
      JsonNode got = find(response, want.path("name").asText());
      assertNotNull(got, () -> "output " + want.path("name") + " missing in " + response);
      assertEquals(want.path("datatype").asText(), got.path("datatype").asText(), "datatype");
      assertEquals(want.path("shape"), got.path("shape"), "shape of " + want.path("name"));
      JsonNode w = want.path("data");
      JsonNode g = got.path("data");
      assertEquals(w.size(), g.size(), "element count of " + want.path("name"));
      for (int i = 0; i < w.size(); i++) {
        if (w.get(i).isBoolean()) {
          assertEquals(w.get(i).asBoolean(), g.get(i).asBoolean(), "element " + i);
        } else if (w.get(i).isIntegralNumber() && g.get(i).isIntegralNumber()) {
          assertEquals(w.get(i).asLong(), g.get(i).asLong(), "element " + i + " of " + want.path("name"));
        } else {
          double a = w.get(i).asDouble();
          double b = g.get(i).asDouble();
          // Float outputs are printed to float precision (%.9g): equal as floats is exact.
          boolean sameFloat = !want.path("datatype").asText().equals("FP64") && (float) a == (float) b;
          if (!sameFloat && Math.abs(a - b) > atol + rtol * Math.abs(a)) {
            fail(want.path("name").asText() + "[" + i + "]: expected " + a + ", got " + b
                + " (rtol " + rtol + ", atol " + atol + ")");
          }
        }
      }
    }
  }

  static JsonNode find(JsonNode response, String name) {
    for (JsonNode o : response.path("outputs")) {
      if (o.path("name").asText().equals(name)) {
        return o;
      }
    }
    return null;
  }
}
