package io.plait.examples;

import io.plait.ObjectRef;
import io.plait.Plait;
import io.plait.PyActorClass;
import io.plait.PyActorHandle;
import io.plait.PyActorMethod;
import java.util.ArrayList;
import java.util.List;

/**
 * A Java service that drives a Python model actor (examples/pymodels.py): run it from
 * examples/ with {@code plait java -cp plait-examples.jar io.plait.examples.ModelService}.
 */
public final class ModelService {
  private ModelService() {}

  public static void main(String[] args) {
    Plait.init();
    PyActorHandle model = Plait.actor(PyActorClass.of("pymodels", "LinearModel"), 2.0, 1.0)
        .remote();
    List<ObjectRef<Double>> predictions = new ArrayList<>();
    for (int x = 0; x < 5; x++) {
      predictions.add(model.task(PyActorMethod.of("predict", Double.class), (double) x).remote());
    }
    System.out.println("Java got predictions from the Python actor: " + Plait.get(predictions));
    Long served = Plait.get(model.task(PyActorMethod.of("calls", Long.class)).remote());
    System.out.println("the Python actor served " + served + " calls");
  }
}
