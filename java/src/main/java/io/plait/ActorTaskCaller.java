package io.plait;

import io.plait.runtime.HostRuntime;

/** A pending actor method call; {@link #remote()} submits it. */
public final class ActorTaskCaller<R> {
  private final BaseActorHandle handle;
  private final ActorMethod<R> method;
  private final Object[] args;

  ActorTaskCaller(BaseActorHandle handle, ActorMethod<R> method, Object[] args) {
    this.handle = handle;
    this.method = method;
    this.args = args.clone();
  }

  /** Submits the call (calls from one caller run in order); returns a ref to its result. */
  public ObjectRef<R> remote() {
    return HostRuntime.current().callActor(handle, method.name(), args, method.returnType());
  }
}
