package io.plait.runtime;

import io.plait.PlaitException;

/**
 * A value could not be encoded (a Java type with no place in the object format), or an
 * object could not be decoded: malformed (rejected) or Python-only (refused, with a message
 * naming the Python type).
 */
public class CodecException extends PlaitException {
  public CodecException(String message) {
    super(message);
  }

  public CodecException(String message, Throwable cause) {
    super(message, cause);
  }
}
