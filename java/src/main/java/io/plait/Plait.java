package io.plait;

import io.plait.runtime.HostRuntime;
import java.util.List;
import java.util.Optional;

/**
 * The plait API for Java programs: tasks and actors of any language, objects by reference.
 *
 * <pre>{@code
 * Plait.init();
 * ObjectRef<Long> r = Plait.task(PyFunction.of("mymod", "add", Long.class), 1, 2).remote();
 * long three = Plait.get(r);
 * PyActorHandle counter = Plait.actor(PyActorClass.of("mymod", "Counter")).remote();
 * Plait.get(counter.task(PyActorMethod.of("incr", Long.class)).remote());
 * }</pre>
 *
 * A Java program runs as a plait driver under {@code plait java -cp app.jar Main}: the
 * Python host connects to the cluster and installs the runtime bridge before
 * {@code main} runs. Inside a Java task or actor the worker has installed it already.
 */
public final class Plait {
  private Plait() {}

  /** Checks that this JVM runs inside a plait process (a driver or a worker). */
  public static void init() {
    HostRuntime.current();
  }

  /** Whether a plait runtime is installed in this JVM. */
  public static boolean isInitialized() {
    return HostRuntime.isInstalled();
  }

  public static <R> TaskCaller<R> task(RemoteFunction<R> function, Object... args) {
    return new TaskCaller<>(function, args);
  }

  public static <H extends BaseActorHandle> ActorCreator<H> actor(ActorClass<H> actorClass,
                                                                  Object... args) {
    return new ActorCreator<>(actorClass, args);
  }

  /** Waits for the object and returns its value, read as {@code ref.type()}. Throws
   * {@link CrossLanguageException} when the task that makes it failed. */
  public static <T> T get(ObjectRef<T> ref) {
    return HostRuntime.current().get(List.of(ref), -1).get(0);
  }

  /** Like {@link #get(ObjectRef)}, waiting at most {@code timeoutMs} milliseconds (then a
   * {@link GetTimeoutException}). A call of a dead actor throws {@link ActorDiedException}. */
  public static <T> T get(ObjectRef<T> ref, long timeoutMs) {
    return HostRuntime.current().get(List.of(ref), timeoutMs).get(0);
  }

  /** The values of several refs of one type, in order. */
  public static <T> List<T> get(List<ObjectRef<T>> refs) {
    return HostRuntime.current().get(refs, -1);
  }

  public static <T> List<T> get(List<ObjectRef<T>> refs, long timeoutMs) {
    return HostRuntime.current().get(refs, timeoutMs);
  }

  /** Stores a value (any type the object format carries) and returns a ref to it. */
  @SuppressWarnings("unchecked")
  public static <T> ObjectRef<T> put(T value) {
    Class<T> type = value == null ? (Class<T>) Object.class : (Class<T>) value.getClass();
    return HostRuntime.current().put(value, type);
  }

  /** The named actor in the current namespace, if there is one. */
  public static Optional<BaseActorHandle> getActor(String name) {
    return getActor(name, "");
  }

  public static Optional<BaseActorHandle> getActor(String name, String namespace) {
    return HostRuntime.current().getActor(name, namespace);
  }
}
