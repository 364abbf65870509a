package io.plait;

import java.util.Map;

/** A handle to a java actor; call its methods with {@link #task}. */
public final class JavaActorHandle extends BaseActorHandle {
  public JavaActorHandle(Map<Object, Object> state) {
    super(state);
  }
}
