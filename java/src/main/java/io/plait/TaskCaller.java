package io.plait;

import io.plait.runtime.HostRuntime;
import java.util.LinkedHashMap;
import java.util.Map;

/** A pending task; set options, then {@link #remote()} submits it. */
public final class TaskCaller<R> {
  private final RemoteFunction<R> function;
  private final Object[] args;
  private final Map<String, Object> kwargs = new LinkedHashMap<>();
  private final Map<String, Double> resources = new LinkedHashMap<>();

  TaskCaller(RemoteFunction<R> function, Object[] args) {
    this.function = function;
    this.args = args.clone();
  }

  /** Passes {@code value} as the keyword argument {@code name} (after the positional ones).
   * Python functions take any; Java methods bind it by parameter name (classes compiled with
   * {@code javac -parameters}); C++ functions refuse keyword arguments. */
  public TaskCaller<R> setKwarg(String name, Object value) {
    kwargs.put(checkedName(name), value);
    return this;
  }

  static String checkedName(String name) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("a keyword argument needs a non-empty name");
    }
    return name;
  }

  /** Requires {@code amount} of a resource ("CPU", "GPU" or a custom one) to run. */
  public TaskCaller<R> setResource(String name, double amount) {
    resources.put(name, amount);
    return this;
  }

  /** Submits the task; returns a ref to its result. */
  public ObjectRef<R> remote() {
    return HostRuntime.current().submitTask(function.language(), function.nameParts(), args,
        kwargs, resources, function.returnType());
  }
}
