package dev.javaonnxruntime.lifecycle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CloserTest {
  @Test
  void closesEveryResourceWhenEarlierOnesFailAndThrowsTheFirstFailureWithTheOthersSuppressed() {
    List<String> closed = new ArrayList<>();
    IllegalStateException first = new IllegalStateException("first");
    IllegalArgumentException second = new IllegalArgumentException("second");
    Closer closer = new Closer("owner");
    closer.close("a", () -> {
      closed.add("a");
      throw first;
    });
    closer.close("b", () -> closed.add("b"));
    closer.run("c", () -> {
      closed.add("c");
      throw second;
    });
    closer.close("d", () -> closed.add("d"));

    assertEquals(List.of("a", "b", "c", "d"), closed);
    IllegalStateException thrown = assertThrows(IllegalStateException.class, closer::finish);
    assertSame(first, thrown);
    assertEquals(List.of(second), List.of(thrown.getSuppressed()));
    assertEquals("first; then: second", Closer.describe(thrown));
  }

  @Test
  void wrapsACheckedFailureNamingTheOwnerAndIgnoresNullResources() {
    Closer closer = new Closer("owner");
    assertNull(closer.close("none", null));
    IOException io = new IOException("disk");
    assertSame(io, closer.close("file", () -> {
      throw io;
    }));

    IllegalStateException thrown = assertThrows(IllegalStateException.class, closer::finish);
    assertSame(io, thrown.getCause());
    assertEquals("owner failed: java.io.IOException: disk", thrown.getMessage());
  }

  @Test
  void finishReturnsWhenEveryStepSucceeded() {
    Closer closer = new Closer("owner");
    closer.run("step", () -> { });
    assertNull(closer.failure());
    closer.finish();
  }
}
