package io.plait;

import io.plait.runtime.HostRuntime;
import java.util.LinkedHashMap;
import java.util.Map;

/** A pending actor method call; {@link #remote()} submits it. */
public final class ActorTaskCaller<R> {
  private final BaseActorHandle handle;
  private final ActorMethod<R> method;
  private final Object[] args;
  private final Map<String, Object> kwargs = new LinkedHashMap<>();

  ActorTaskCaller(BaseActorHandle handle, ActorMethod<R> method, Object[] args) {
    this.handle = handle;
    this.method = method;
    this.args = args.clone();
  }

  /** Passes {@code value} as the keyword argument {@code name}, as {@link
   * TaskCaller#setKwarg} does. */
  public ActorTaskCaller<R> setKwarg(String name, Object value) {
    kwargs.put(TaskCaller.checkedName(name), value);
    return this;
  }

  /** Submits the call (calls from one caller run in order); returns a ref to its result. */
  public ObjectRef<R> remote() {
    return HostRuntime.current().callActor(handle, method.name(), args, kwargs,
        method.returnType());
  }
}
