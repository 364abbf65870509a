package io.plait;

import java.util.Objects;

/** A method of an actor, by name; {@code R} is the type {@link Plait#get} reads its result
 * as. See {@link PyActorMethod}, {@link CppActorMethod} and {@link JavaActorMethod}. */
public abstract class ActorMethod<R> {
  private final String name;
  private final Class<R> returnType;

  ActorMethod(String name, Class<R> returnType) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("an actor method name must be non-empty");
    }
    this.name = name;
    this.returnType = Objects.requireNonNull(returnType, "returnType");
  }

  public String name() {
    return name;
  }

  public Class<R> returnType() {
    return returnType;
  }
}
