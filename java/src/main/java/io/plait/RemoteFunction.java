package io.plait;

import java.util.List;
import java.util.Objects;

/**
 * A function of some language, named the way that language's workers find it; see
 * {@link PyFunction}, {@link CppFunction} and {@link JavaFunction}. {@code R} is the type
 * {@link Plait#get} reads the result as.
 */
public abstract class RemoteFunction<R> {
  private final String language;
  private final List<String> nameParts;
  private final Class<R> returnType;

  RemoteFunction(String language, List<String> nameParts, Class<R> returnType) {
    this.language = language;
    for (String part : nameParts) {
      if (part == null || part.isEmpty()) {
        throw new IllegalArgumentException("a " + language + " function name part is empty: "
            + nameParts);
      }
    }
    this.nameParts = List.copyOf(nameParts);
    this.returnType = Objects.requireNonNull(returnType, "returnType");
  }

  /** {@code python}, {@code cpp} or {@code java}. */
  public String language() {
    return language;
  }

  /** python: [module, qualname]; java: [class, method]; cpp: [registered name]. */
  public List<String> nameParts() {
    return nameParts;
  }

  public Class<R> returnType() {
    return returnType;
  }

  @Override
  public String toString() {
    return language + " function " + String.join(".", nameParts);
  }
}
