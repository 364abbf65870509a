package io.plait;

/** A method of a Python actor. */
public final class PyActorMethod<R> extends ActorMethod<R> {
  private PyActorMethod(String name, Class<R> returnType) {
    super(name, returnType);
  }

  public static <R> PyActorMethod<R> of(String name, Class<R> returnType) {
    return new PyActorMethod<>(name, returnType);
  }

  public static PyActorMethod<Object> of(String name) {
    return of(name, Object.class);
  }
}
