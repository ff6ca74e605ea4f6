package dev.javaonnxruntime.hosttests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Native memory is owned, not collected: JavaCPP's byte and pointer counts are back at their
 * baseline after every one of 1,000 Executes, and 0 after the backend's finalize, in a JVM whose
 * garbage collector never collects (Epsilon), so a pointer left to the GC would stay counted. The
 * backend logs the counts before and after each Execute when its test seam
 * java_onnxruntime.test.audit-pointers is set.
 */
class NativeMemoryTest {
  private static final int EXECUTES = 1000;
  private static final Pattern AUDIT = Pattern.compile("pointer audit: model 'two_input' Execute of "
      + "1 requests: JavaCPP counted (\\d+) bytes in (\\d+) pointers before it, (\\d+) bytes in "
      + "(\\d+) pointers after it");

  @TempDir Path dir;

  @Test
  void javaCppCountsAreAtTheirBaselineAfterEachOfAThousandExecutesAndZeroAfterFinalize()
      throws Exception {
    // One instance: its Executes follow one another on one thread, so nothing else is counted.
    String config = Repos.exampleConfig("two_input", "count: 2", "count: 1")
        + "parameters { key: \"input_cache\" value: { string_value: \"content\" } }\n";
    Repos.withConfig(dir, "two_input", "two_input", config);
    ObjectNode store = Repos.request("two_input/request_b1.json");
    store.putObject("parameters").put("input_cache_key.image", "kept");
    ObjectNode reference = Repos.without(store, "image");
    // Content keys (hits after the first), a named key stored and read, a request that fails.
    ObjectNode bad = Repos.request("two_input/request_b2.json");
    bad.putObject("parameters").put("input_cache_key.image", "never-stored");
    List<String> args = TritonHost.requests("two_input/request_b1.json", "two_input/request_b2.json",
        Repos.write(dir, "store.json", store), Repos.write(dir, "reference.json", reference),
        Repos.write(dir, "bad.json", Repos.without(bad, "image")));
    args.addAll(List.of("--repeat", Integer.toString(EXECUTES / 5), "--input-chunks", "2"));
    args.addAll(TritonHost.jvmOptions(TritonHost.NO_GC, "-Djava_onnxruntime.test.audit-pointers=true"));
    TritonHost.Result r = TritonHost.infer(dir, "two_input", args);

    assertEquals(1, r.exit(), r::toString); // the never-stored key is refused, as it should be
    assertTrue(r.line(4).path("error").asText().contains("no cached tensor"), r::toString);
    List<long[]> audits = new ArrayList<>();
    Matcher m = AUDIT.matcher(r.stderr());
    while (m.find()) {
      audits.add(new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2)),
          Long.parseLong(m.group(3)), Long.parseLong(m.group(4))});
    }
    assertEquals(EXECUTES, audits.size(), r::toString);
    long[] baseline = {audits.get(0)[0], audits.get(0)[1]};
    assertTrue(baseline[1] > 0, "the instance's own out-parameters are counted: the audit sees them");
    for (int i = 0; i < audits.size(); i++) {
      long[] a = audits.get(i);
      int n = i + 1;
      assertEquals(List.of(baseline[0], baseline[1], baseline[0], baseline[1]),
          List.of(a[0], a[1], a[2], a[3]), () -> "Execute " + n + ": bytes and pointers before, after");
    }
    TritonHost.assertSettledOnce(r, "two_input", EXECUTES);
    assertTrue(r.stderr().contains(TritonHost.NOTHING_LEFT + " (0 bytes in 0 pointers before the "
        + "backend started)"), r::toString);
  }
}
