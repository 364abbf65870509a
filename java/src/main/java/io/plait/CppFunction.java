package io.plait;

import java.util.List;

/** A C++ function registered with PLAIT_REMOTE in one of the job's libraries. */
public final class CppFunction<R> extends RemoteFunction<R> {
  private CppFunction(List<String> nameParts, Class<R> returnType) {
    super("cpp", nameParts, returnType);
  }

  public static <R> CppFunction<R> of(String name, Class<R> returnType) {
    return new CppFunction<>(List.of(name), returnType);
  }

  public static CppFunction<Object> of(String name) {
    return of(name, Object.class);
  }
}
