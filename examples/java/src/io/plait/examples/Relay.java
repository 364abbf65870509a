package io.plait.examples;

import io.plait.CppFunction;
import io.plait.Plait;
import io.plait.PyFunction;

/**
 * Java tasks that call a task in another language and wait for its result, letting its
 * failure propagate: the error that reaches their caller keeps where it began (a Python
 * {@code ValueError} stays one for a Python caller; docs/cross-language.md, "Errors").
 */
public final class Relay {
  private Relay() {}

  /** {@code module.function(a, b)} as a Python task. */
  public static Object callPython(String module, String function, long a, long b) {
    return Plait.get(Plait.task(PyFunction.of(module, function), a, b).remote());
  }

  /** The C++ function {@code function(a, b)} (registered with PLAIT_REMOTE) as a task. */
  public static Object callCpp(String function, double a, double b) {
    return Plait.get(Plait.task(CppFunction.of(function), a, b).remote());
  }
}
