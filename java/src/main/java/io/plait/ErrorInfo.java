package io.plait;

import java.util.Arrays;
import java.util.Objects;
import java.util.Set;

/**
 * A failure as a value (the object format's Error ext, code 5): what a task that threw
 * returns. {@code pythonPickle} is opaque to Java; it is kept only so that an error read
 * from Python and written again stays byte for byte the same.
 */
public final class ErrorInfo {
  /** Python's exception types for an actor that is gone (RayActorError and subclasses). */
  private static final Set<String> ACTOR_DIED_TYPES = Set.of(
      "plait.exceptions.RayActorError", "plait.exceptions.ActorDiedError",
      "plait.exceptions.ActorUnavailableError");

  private final String typeName;
  private final String message;
  private final String language;
  private final String stack;
  private final ErrorInfo cause;
  private final byte[] pythonPickle;

  public ErrorInfo(String typeName, String message, String language, String stack,
                   ErrorInfo cause, byte[] pythonPickle) {
    this.typeName = Objects.requireNonNull(typeName, "typeName");
    this.message = Objects.requireNonNull(message, "message");
    this.language = Objects.requireNonNull(language, "language");
    this.stack = Objects.requireNonNull(stack, "stack");
    this.cause = cause;
    this.pythonPickle = pythonPickle;
  }

  public ErrorInfo(String typeName, String message, String language, String stack) {
    this(typeName, message, language, stack, null, null);
  }

  /** The exception's qualified type name in its language, e.g. {@code builtins.ValueError}. */
  public String typeName() {
    return typeName;
  }

  public String message() {
    return message;
  }

  /** {@code python}, {@code java} or {@code cpp}. */
  public String language() {
    return language;
  }

  /** A printable stack trace; may be empty. */
  public String stack() {
    return stack;
  }

  /** The error that caused this one, or null. */
  public ErrorInfo cause() {
    return cause;
  }

  /** Python's pickled exception, or null; Java never reads it. */
  public byte[] pythonPickle() {
    return pythonPickle == null ? null : pythonPickle.clone();
  }

  /** Whether this error says that an actor is gone (Python's {@code RayActorError} and its
   * subclasses: the actor died, was killed, or could not be created). */
  public boolean isActorDied() {
    return language.equals("python") && ACTOR_DIED_TYPES.contains(typeName);
  }

  /** This error as an exception to throw in Java: an {@link ActorDiedException} when
   * {@link #isActorDied()}, a {@link CrossLanguageException} otherwise. */
  public CrossLanguageException toException() {
    return isActorDied() ? new ActorDiedException(this) : new CrossLanguageException(this);
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof ErrorInfo)) {
      return false;
    }
    ErrorInfo e = (ErrorInfo) o;
    return typeName.equals(e.typeName) && message.equals(e.message)
        && language.equals(e.language) && stack.equals(e.stack)
        && Objects.equals(cause, e.cause) && Arrays.equals(pythonPickle, e.pythonPickle);
  }

  @Override
  public int hashCode() {
    return Objects.hash(typeName, message, language);
  }

  @Override
  public String toString() {
    return typeName + " (" + language + "): " + message;
  }
}
