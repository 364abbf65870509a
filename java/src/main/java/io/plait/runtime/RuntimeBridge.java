package io.plait.runtime;

/**
 * The byte-level calls the hosting Python core worker answers (docs/cross-language.md,
 * "Host API"). Python implements this interface with JPype's {@code @JImplements}
 * (python/plait/_java/bridge.py) and installs it with {@link HostRuntime#install}.
 *
 * <p>Every value and every reference crosses as one encoded object in the object format
 * (docs/object-format.md): refs inside ObjectRef exts, handles inside ActorHandle exts, so
 * this interface needs no types of its own. A failure of the call itself (a malformed
 * argument, an unknown actor, a timeout) comes back as an exception whose message names the
 * problem; a failed <em>task</em> is not a failure of the call: its result object holds an
 * Error value.
 */
public interface RuntimeBridge {
  /** Stores one encoded value; returns the encoded ObjectRef to it. */
  byte[] put(byte[] encodedValue);

  /**
   * The encoded objects of an encoded list of ObjectRefs, in order (a failed object is an
   * encoded Error value). Waits at most {@code timeoutSeconds}; a negative timeout waits
   * for ever. Each view may point straight into the node's shared-memory store; its owner
   * keeps that memory mapped while Java holds it.
   */
  BufferView[] get(byte[] encodedRefs, double timeoutSeconds);

  /**
   * Submits a task. {@code language}: python, java or cpp; {@code nameParts}: python
   * [module, qualname], java [class, method], cpp [name]; {@code args}: one encoded object
   * each (a top-level ObjectRef is passed by reference: the callee gets its value); the
   * last {@code kwargNames.length} args are keyword arguments; {@code encodedResources}:
   * an encoded map of resource name to amount (may be empty). Returns an encoded list of
   * {@code numReturns} ObjectRefs.
   */
  byte[] submitTask(String language, String[] nameParts, byte[][] args, String[] kwargNames,
                    int numReturns, byte[] encodedResources);

  /**
   * Creates an actor; {@code nameParts}: python [module, qualname], java [class], cpp
   * [name]; {@code encodedOptions}: an encoded map with any of name, namespace, lifetime,
   * max_concurrency, get_if_exists, resources. Returns the encoded ActorHandle.
   */
  byte[] createActor(String language, String[] nameParts, byte[][] args, String[] kwargNames,
                     byte[] encodedOptions);

  /** Calls an actor method; returns an encoded list of {@code numReturns} ObjectRefs. */
  byte[] callActor(byte[] encodedHandle, String method, byte[][] args, String[] kwargNames,
                   int numReturns);

  /** The encoded handle of the named actor ({@code namespace} "" = the job's), or null
   * when there is no such actor. */
  byte[] getActor(String name, String namespace);

  /** Ends an actor. */
  void killActor(byte[] encodedHandle);

  /**
   * Gives back one hold per ref of an encoded list of ObjectRefs: Java can no longer reach
   * them ({@link RefHolds}). Every ref the host hands to Java carries one hold: the refs
   * returned by put, submitTask and callActor, the refs inside values returned by get and
   * inside a Java task's arguments. Inside a task the host lets the holds go only once the
   * task's results are registered.
   */
  void release(byte[] encodedRefs);
}
