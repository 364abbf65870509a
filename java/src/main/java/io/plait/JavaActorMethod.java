package io.plait;

/** A method of a Java actor. */
public final class JavaActorMethod<R> extends ActorMethod<R> {
  private JavaActorMethod(String name, Class<R> returnType) {
    super(name, returnType);
  }

  public static <R> JavaActorMethod<R> of(String name, Class<R> returnType) {
    return new JavaActorMethod<>(name, returnType);
  }

  public static JavaActorMethod<Object> of(String name) {
    return of(name, Object.class);
  }
}
