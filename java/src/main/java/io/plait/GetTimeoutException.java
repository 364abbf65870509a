package io.plait;

/** {@link Plait#get} with a timeout: the objects were not all ready in time (Python's
 * {@code plait.exceptions.GetTimeoutError}). The objects stay valid; get them again. */
public class GetTimeoutException extends PlaitException {
  public GetTimeoutException(String message) {
    super(message);
  }
}
