package io.plait;

/**
 * The actor a call went to is gone: it died, was killed ({@link BaseActorHandle#kill}), or
 * could not be created. Thrown by {@link Plait#get} for the results of its calls (pending
 * ones included), like Python's {@code plait.exceptions.ActorDiedError}.
 */
public class ActorDiedException extends CrossLanguageException {
  public ActorDiedException(ErrorInfo error) {
    super(error);
  }
}
