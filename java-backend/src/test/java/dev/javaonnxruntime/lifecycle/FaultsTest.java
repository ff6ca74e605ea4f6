package dev.javaonnxruntime.lifecycle;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FaultsTest {
  @Test
  void anArmedStepThrowsOnItsNthHitOnly() {
    Map<String, Faults.Trigger> armed = Faults.parse("lease.close@3, response.send");
    Faults.Trigger lease = armed.get("lease.close");
    assertDoesNotThrow(() -> lease.hit("lease.close"));
    assertDoesNotThrow(() -> lease.hit("lease.close"));
    Faults.InjectedFault fault = assertThrows(Faults.InjectedFault.class, () -> lease.hit("lease.close"));
    assertTrue(fault.getMessage().startsWith("injected fault at lease.close (time 3"), fault.getMessage());
    assertDoesNotThrow(() -> lease.hit("lease.close"));
    assertThrows(Faults.InjectedFault.class, () -> armed.get("response.send").hit("response.send"));
  }

  @Test
  void refusesASpecThatIsNotStepAtN() {
    for (String bad : List.of("x@0", "x@two", "@2", "a,,b")) {
      assertThrows(IllegalArgumentException.class, () -> Faults.parse(bad), bad);
    }
  }

  @Test
  void isOffWithoutTheProperty() {
    assertNull(Faults.parse(null));
    assertNull(Faults.parse(" "));
    assertNull(Faults.armed()); // the test JVM does not set it
    assertDoesNotThrow(() -> Faults.at("response.send"));
    assertEquals(List.of(), Faults.unfired());
  }
}
