package io.plait;

import java.util.List;

/** Any public class on the job's classpath, the JDK's included (java.util.ArrayList is an actor class); constructor overloads are picked like method overloads. */
public final class JavaActorClass extends ActorClass<JavaActorHandle> {
  private JavaActorClass(List<String> nameParts) {
    super("java", nameParts);
  }

  public static JavaActorClass of(String className) {
    return new JavaActorClass(List.of(className));
  }

  @Override
  JavaActorHandle cast(BaseActorHandle handle) {
    if (handle instanceof JavaActorHandle) {
      return (JavaActorHandle) handle;
    }
    throw new PlaitException("expected a java actor handle, got " + handle);
  }
}
