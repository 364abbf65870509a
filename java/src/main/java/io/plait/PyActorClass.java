package io.plait;

import java.util.List;

/** A Python actor class: its module and qualname. */
public final class PyActorClass extends ActorClass<PyActorHandle> {
  private PyActorClass(List<String> nameParts) {
    super("python", nameParts);
  }

  public static PyActorClass of(String module, String className) {
    return new PyActorClass(List.of(module, className));
  }

  @Override
  PyActorHandle cast(BaseActorHandle handle) {
    if (handle instanceof PyActorHandle) {
      return (PyActorHandle) handle;
    }
    throw new PlaitException("expected a python actor handle, got " + handle);
  }
}
