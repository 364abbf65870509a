package io.plait;

import io.plait.runtime.HostRuntime;
import java.util.LinkedHashMap;
import java.util.Map;

/** A pending actor creation; set options, then {@link #remote()} creates it. */
public final class ActorCreator<H extends BaseActorHandle> {
  private final ActorClass<H> actorClass;
  private final Object[] args;
  private final Map<String, Object> kwargs = new LinkedHashMap<>();
  private final Map<String, Object> options = new LinkedHashMap<>();
  private final Map<String, Double> resources = new LinkedHashMap<>();

  ActorCreator(ActorClass<H> actorClass, Object[] args) {
    this.actorClass = actorClass;
    this.args = args.clone();
  }

  /** Passes {@code value} to the constructor as the keyword argument {@code name}, as
   * {@link TaskCaller#setKwarg} does. */
  public ActorCreator<H> setKwarg(String name, Object value) {
    kwargs.put(TaskCaller.checkedName(name), value);
    return this;
  }

  /** Names the actor, so that {@link Plait#getActor} finds it. */
  public ActorCreator<H> setName(String name) {
    options.put("name", name);
    return this;
  }

  public ActorCreator<H> setNamespace(String namespace) {
    options.put("namespace", namespace);
    return this;
  }

  /** A detached actor outlives the job that created it. */
  public ActorCreator<H> setDetached(boolean detached) {
    options.put("lifetime", detached ? "detached" : null);
    return this;
  }

  public ActorCreator<H> setMaxConcurrency(int maxConcurrency) {
    options.put("max_concurrency", (long) maxConcurrency);
    return this;
  }

  /** Returns the existing actor of this name instead of failing. */
  public ActorCreator<H> setGetIfExists(boolean getIfExists) {
    options.put("get_if_exists", getIfExists);
    return this;
  }

  public ActorCreator<H> setResource(String name, double amount) {
    resources.put(name, amount);
    return this;
  }

  /** Creates the actor; its methods can be called at once (they wait for it to start). */
  public H remote() {
    Map<String, Object> all = new LinkedHashMap<>(options);
    if (!resources.isEmpty()) {
      all.put("resources", new LinkedHashMap<>(resources));
    }
    return actorClass.cast(HostRuntime.current().createActor(actorClass.language(),
        actorClass.nameParts(), args, kwargs, all));
  }
}
