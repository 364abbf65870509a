package io.plait;

/** A plait runtime failure seen by Java code: misuse, a timeout, a value that cannot
 * cross languages. Failures of remote user code arrive as {@link CrossLanguageException}. */
public class PlaitException extends RuntimeException {
  public PlaitException(String message) {
    super(message);
  }

  public PlaitException(String message, Throwable cause) {
    super(message, cause);
  }
}
