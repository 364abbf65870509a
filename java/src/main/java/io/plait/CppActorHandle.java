package io.plait;

import java.util.Map;

/** A handle to a cpp actor; call its methods with {@link #task}. */
public final class CppActorHandle extends BaseActorHandle {
  public CppActorHandle(Map<Object, Object> state) {
    super(state);
  }
}
