package io.plait;

import io.plait.runtime.HostRuntime;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A handle to an actor of any language (the object format's ActorHandle ext). The state map
 * is the runtime's (plait writes {@code actor_id}, {@code class_name}, {@code language},
 * {@code methods}); Java keeps it as read, so a handle passed on is the same bytes.
 */
public class BaseActorHandle {
  private final Map<Object, Object> state;

  public BaseActorHandle(Map<Object, Object> state) {
    this.state = Collections.unmodifiableMap(new LinkedHashMap<>(state));
  }

  /** The handle for a state map: {@link PyActorHandle}, {@link JavaActorHandle} or
   * {@link CppActorHandle} by its {@code language}; a plain BaseActorHandle otherwise. */
  public static BaseActorHandle fromState(Map<Object, Object> state) {
    Object language = state.get("language");
    if ("python".equals(language)) {
      return new PyActorHandle(state);
    }
    if ("java".equals(language)) {
      return new JavaActorHandle(state);
    }
    if ("cpp".equals(language)) {
      return new CppActorHandle(state);
    }
    return new BaseActorHandle(state);
  }

  /** The state map, in its original order (read-only). */
  public Map<Object, Object> state() {
    return state;
  }

  public byte[] actorId() {
    Object id = state.get("actor_id");
    return id instanceof byte[] ? ((byte[]) id).clone() : new byte[0];
  }

  public String className() {
    Object name = state.get("class_name");
    return name instanceof String ? (String) name : "";
  }

  public String language() {
    Object language = state.get("language");
    return language instanceof String ? (String) language : "";
  }

  /** A call of {@code method} with {@code args}; {@code .remote()} submits it. */
  public <R> ActorTaskCaller<R> task(ActorMethod<R> method, Object... args) {
    return new ActorTaskCaller<>(this, method, args);
  }

  /** Ends the actor (its pending calls fail). */
  public void kill() {
    HostRuntime.current().killActor(this);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BaseActorHandle
        && Arrays.equals(actorId(), ((BaseActorHandle) o).actorId());
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(actorId());
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "(" + language() + " " + className() + ")";
  }
}
