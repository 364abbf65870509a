package io.plait;

/** A method of a C++ actor. */
public final class CppActorMethod<R> extends ActorMethod<R> {
  private CppActorMethod(String name, Class<R> returnType) {
    super(name, returnType);
  }

  public static <R> CppActorMethod<R> of(String name, Class<R> returnType) {
    return new CppActorMethod<>(name, returnType);
  }

  public static CppActorMethod<Object> of(String name) {
    return of(name, Object.class);
  }
}
