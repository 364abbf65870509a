package io.plait.examples;

import io.plait.CrossLanguageException;
import io.plait.JavaActorClass;
import io.plait.JavaActorHandle;
import io.plait.JavaActorMethod;
import io.plait.JavaFunction;
import io.plait.ObjectRef;
import io.plait.Plait;
import io.plait.PyFunction;

/**
 * A Java driver: run it with {@code plait java -cp plait-examples.jar
 * io.plait.examples.CrossLanguageDriver}. It calls a Python function, a Java task and a
 * Java actor through the cluster.
 */
public final class CrossLanguageDriver {
  private CrossLanguageDriver() {}

  public static void main(String[] args) {
    Plait.init();
    ObjectRef<Long> max = Plait.task(JavaFunction.of("java.lang.Math", "max", Long.class), 3, 7)
        .remote();
    System.out.println("Math.max(3, 7) = " + Plait.get(max));

    JavaActorHandle counter = Plait.actor(JavaActorClass.of("io.plait.examples.Counter"), 10)
        .remote();
    counter.task(JavaActorMethod.of("increment", Long.class)).remote();
    System.out.println("counter = "
        + Plait.get(counter.task(JavaActorMethod.of("get", Long.class)).remote()));

    ObjectRef<Object> py = Plait.task(PyFunction.of("math", "sqrt"), 2.0).remote();
    System.out.println("math.sqrt(2) = " + Plait.get(py));
    try {
      Plait.get(Plait.task(PyFunction.of("math", "sqrt"), -1.0).remote());
    } catch (CrossLanguageException e) {
      System.out.println("math.sqrt(-1) failed in " + e.getLanguage() + ": " + e.getTypeName()
          + ": " + e.getRemoteMessage());
    }
  }
}
