package io.plait;

import java.util.List;

/** A Python function: {@code module} and the function's {@code qualname} (importable on the worker). */
public final class PyFunction<R> extends RemoteFunction<R> {
  private PyFunction(List<String> nameParts, Class<R> returnType) {
    super("python", nameParts, returnType);
  }

  public static <R> PyFunction<R> of(String module, String qualname, Class<R> returnType) {
    return new PyFunction<>(List.of(module, qualname), returnType);
  }

  public static PyFunction<Object> of(String module, String qualname) {
    return of(module, qualname, Object.class);
  }
}
