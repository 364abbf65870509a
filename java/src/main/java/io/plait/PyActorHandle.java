package io.plait;

import java.util.Map;

/** A handle to a python actor; call its methods with {@link #task}. */
public final class PyActorHandle extends BaseActorHandle {
  public PyActorHandle(Map<Object, Object> state) {
    super(state);
  }
}
