package io.plait;

import java.util.List;

/** A public static method of any class on the job's classpath (the JDK's included); overloads are picked by argument count, then argument types. */
public final class JavaFunction<R> extends RemoteFunction<R> {
  private JavaFunction(List<String> nameParts, Class<R> returnType) {
    super("java", nameParts, returnType);
  }

  public static <R> JavaFunction<R> of(String className, String method, Class<R> returnType) {
    return new JavaFunction<>(List.of(className, method), returnType);
  }

  public static JavaFunction<Object> of(String className, String method) {
    return of(className, method, Object.class);
  }
}
