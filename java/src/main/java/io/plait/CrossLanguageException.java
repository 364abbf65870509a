package io.plait;

/**
 * A remote task or actor method failed: thrown by {@link Plait#get} when the object holds
 * an error. It carries the failure as the other language described it: the exception's
 * type name in that language, the language, the message and the remote stack trace.
 */
public class CrossLanguageException extends PlaitException {
  private final ErrorInfo error;

  public CrossLanguageException(ErrorInfo error) {
    super(error.typeName() + " (" + error.language() + "): " + error.message(),
        error.cause() == null ? null : new CrossLanguageException(error.cause()));
    this.error = error;
  }

  /** e.g. {@code builtins.ZeroDivisionError} or {@code java.lang.IllegalStateException}. */
  public String getTypeName() {
    return error.typeName();
  }

  /** {@code python}, {@code java} or {@code cpp}. */
  public String getLanguage() {
    return error.language();
  }

  /** The remote exception's own message (without the type name). */
  public String getRemoteMessage() {
    return error.message();
  }

  /** The remote stack trace as that language printed it (may be empty). */
  public String getRemoteStack() {
    return error.stack();
  }

  public ErrorInfo getErrorInfo() {
    return error;
  }

  /**
   * The languages the error crossed: where it began first, this error's language last
   * (e.g. {@code [python, cpp]} for a Python error a C++ task let propagate). Each hop is
   * one link of the {@link #getCause()} chain.
   */
  public java.util.List<String> getLanguages() {
    java.util.ArrayList<String> out = new java.util.ArrayList<>();
    for (ErrorInfo e = error; e != null; e = e.cause()) {
      out.add(0, e.language());
    }
    return out;
  }
}
