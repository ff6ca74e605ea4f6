package dev.javaonnxruntime.hosttests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short `make stress`: 8 clients, 5% malformed requests of every kind, constant eviction.
 * Every request is answered, every good answer equals its clean reference byte for byte, and
 * nothing crashes. (Memory growth needs the long run; `make stress` prints it.)
 */
class StressTest {
  @TempDir Path dir;

  @Test
  void everyRequestIsAnsweredAndEveryGoodAnswerIsExact() throws Exception {
    Process p = new ProcessBuilder("python3", TritonHost.ROOT.resolve("scripts/stress.py").toString(),
        "--requests", "2400", "--work", dir.resolve("stress").toString())
        .directory(TritonHost.ROOT.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "stress run did not finish");
    Matcher m = Pattern.compile("sent (\\d+), answered (\\d+), identical (\\d+) of (\\d+) good, "
        + "crashes (\\d+), growth (\\S+)%").matcher(out);
    assertTrue(m.find(), () -> "no verdict line:\n" + out);
    assertEquals(m.group(1), m.group(2), () -> "answered\n" + out);
    assertEquals(m.group(4), m.group(3), () -> "identical\n" + out);
    assertEquals("0", m.group(5), () -> "crashes\n" + out);
    assertTrue(Integer.parseInt(m.group(1)) >= 2000, () -> "sent\n" + out);
    assertTrue(!out.contains("contract breach"), out);
    assertTrue(!Pattern.compile("otherwise [1-9]").matcher(out).find(),
        () -> "a malformed request got the wrong error:\n" + out);
  }
}
