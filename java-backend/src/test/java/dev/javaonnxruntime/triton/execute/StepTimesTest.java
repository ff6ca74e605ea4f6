package dev.javaonnxruntime.triton.execute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.javaonnxruntime.triton.execute.StepTimes.Step;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StepTimesTest {
  private long now = 1_000_000;
  private final List<String> lines = new ArrayList<>();

  /** One Execute after {@code gapMicros} idle: enter to bind {@code beforeMicros}, a 50 us run. */
  private void execute(StepTimes steps, long gapMicros, long beforeMicros) {
    execute(steps, gapMicros, 0, beforeMicros);
  }

  /** The same, with {@code enterMicros} of it from the shim's entry to the Execute's first line. */
  private void execute(StepTimes steps, long gapMicros, long enterMicros, long beforeMicros) {
    now += gapMicros * 1000;
    steps.start(now, 1);
    now += enterMicros * 1000;
    steps.mark(Step.ENTER);
    beforeMicros -= enterMicros;
    now += beforeMicros * 1000 / 2;
    steps.mark(Step.TAKE);
    steps.mark(Step.READ);
    now += beforeMicros * 1000 - beforeMicros * 1000 / 2;
    steps.mark(Step.RESOLVE);
    steps.compute(now, now + 50_000);
    now += 50_000;
    steps.mark(Step.WRITE);
    steps.end();
  }

  @Test
  void splitsTakeToBindByTheIdleGapBeforeEachExecute() {
    StepTimes steps = new StepTimes("m", 5, () -> now, lines::add);
    execute(steps, 0, 10); // the first: no gap, in neither half
    execute(steps, 100, 4);
    execute(steps, 1000, 20);
    execute(steps, 150, 5);
    assertTrue(lines.isEmpty(), "a line only every 5 Executes");
    execute(steps, 900, 22);
    assertEquals(1, lines.size());
    String line = lines.get(0);
    assertTrue(line.startsWith("step times: model 'm', mean us per Execute over 5 Executes of 5 "
        + "requests: enter 0.0 take 6.1 read 0.0 resolve 6.1 bind 0.0 infer 50.0 write 0.0"), line);
    assertTrue(line.contains("; between Executes 430.0;"), line);
    assertTrue(line.endsWith("; enter to bind p10 4.0 p50 10.0 p90 22.0; after the shorter half "
        + "of the gaps (up to 150.0) 4.5, after the longer 21.0"), line);
  }

  @Test
  void startsEachLineAfresh() {
    StepTimes steps = new StepTimes("m", 2, () -> now, lines::add);
    execute(steps, 0, 30);
    execute(steps, 500, 30);
    execute(steps, 100, 2);
    execute(steps, 200, 6);
    assertEquals(2, lines.size());
    assertTrue(lines.get(1).contains("over 2 Executes of 2 requests: enter 0.0 take 2.0 "),
        lines.get(1));
    assertTrue(lines.get(1).endsWith("; enter to bind p10 2.0 p50 2.0 p90 6.0; after the shorter "
        + "half of the gaps (up to 100.0) 2.0, after the longer 6.0"), lines.get(1));
  }

  @Test
  void countsTheCallIntoTheJvmInItsOwnStepAndInTheSpread() {
    StepTimes steps = new StepTimes("m", 2, () -> now, lines::add);
    execute(steps, 0, 3, 10);
    execute(steps, 100, 5, 20);
    assertEquals(1, lines.size());
    String line = lines.get(0);
    assertTrue(line.contains("requests: enter 4.0 take 5.5 read 0.0 resolve 5.5 bind 0.0 "), line);
    // Enter to bind is the Execute's compute_input: the call into the JVM included.
    assertTrue(line.endsWith("; enter to bind p10 10.0 p50 10.0 p90 20.0"), line);
  }

  @Test
  void offLogsNothing() {
    StepTimes steps = new StepTimes("m", 0, () -> now, lines::add);
    for (int i = 0; i < 10; i++) {
      execute(steps, 100, 5);
    }
    assertTrue(lines.isEmpty());
  }
}
