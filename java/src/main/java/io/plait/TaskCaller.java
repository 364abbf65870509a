package io.plait;

import io.plait.runtime.HostRuntime;
import java.util.LinkedHashMap;
import java.util.Map;

/** A pending task; set options, then {@link #remote()} submits it. */
public final class TaskCaller<R> {
  private final RemoteFunction<R> function;
  private final Object[] args;
  private final Map<String, Double> resources = new LinkedHashMap<>();

  TaskCaller(RemoteFunction<R> function, Object[] args) {
    this.function = function;
    this.args = args.clone();
  }

  /** Requires {@code amount} of a resource ("CPU", "GPU" or a custom one) to run. */
  public TaskCaller<R> setResource(String name, double amount) {
    resources.put(name, amount);
    return this;
  }

  /** Submits the task; returns a ref to its result. */
  public ObjectRef<R> remote() {
    return HostRuntime.current().submitTask(function.language(), function.nameParts(), args,
        resources, function.returnType());
  }
}
