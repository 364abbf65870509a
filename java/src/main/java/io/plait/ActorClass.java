package io.plait;

import java.util.List;

/**
 * An actor class of some language; see {@link PyActorClass}, {@link CppActorClass} and
 * {@link JavaActorClass}. {@code H} is the handle type {@code Plait.actor(...).remote()}
 * gives.
 */
public abstract class ActorClass<H extends BaseActorHandle> {
  private final String language;
  private final List<String> nameParts;

  ActorClass(String language, List<String> nameParts) {
    for (String part : nameParts) {
      if (part == null || part.isEmpty()) {
        throw new IllegalArgumentException("a " + language + " class name part is empty: "
            + nameParts);
      }
    }
    this.language = language;
    this.nameParts = List.copyOf(nameParts);
  }

  public String language() {
    return language;
  }

  /** python: [module, qualname]; java: [class]; cpp: [registered name]. */
  public List<String> nameParts() {
    return nameParts;
  }

  abstract H cast(BaseActorHandle handle);

  @Override
  public String toString() {
    return language + " actor class " + String.join(".", nameParts);
  }
}
