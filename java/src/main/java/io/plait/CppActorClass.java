package io.plait;

import java.util.List;

/** A C++ class registered with PLAIT_ACTOR in one of the job's libraries. */
public final class CppActorClass extends ActorClass<CppActorHandle> {
  private CppActorClass(List<String> nameParts) {
    super("cpp", nameParts);
  }

  public static CppActorClass of(String name) {
    return new CppActorClass(List.of(name));
  }

  @Override
  CppActorHandle cast(BaseActorHandle handle) {
    if (handle instanceof CppActorHandle) {
      return (CppActorHandle) handle;
    }
    throw new PlaitException("expected a cpp actor handle, got " + handle);
  }
}
