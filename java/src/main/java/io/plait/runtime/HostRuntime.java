package io.plait.runtime;

import io.plait.BaseActorHandle;
import io.plait.CrossLanguageException;
import io.plait.ErrorInfo;
import io.plait.ObjectRef;
import io.plait.PlaitException;
import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The user API's side of the {@link RuntimeBridge}: Java values in, encoded objects across,
 * Java values out. One per JVM, installed by the Python host ({@code plait java} for a
 * driver, the Java worker for tasks and actors that call other tasks).
 */
public final class HostRuntime {
  private static volatile HostRuntime current;

  private final RuntimeBridge bridge;
  /** The host's holds on the refs this runtime handed to Java. */
  private final RefHolds holds = new RefHolds();

  private HostRuntime(RuntimeBridge bridge) {
    this.bridge = bridge;
  }

  /** The installed runtime's holds, or null when none is installed (then refs decoded
   * carry no hold: nobody placed one). */
  public static RefHolds installedHolds() {
    HostRuntime rt = current;
    return rt == null ? null : rt.holds;
  }

  /**
   * Gives the holds of refs the GC has collected back to the host (a no-op when there are
   * none or no runtime is installed). Every call below does this first; a Java worker does
   * it around each task, the driver's host every second. Call it on a thread that may call
   * the host (not from a Cleaner or finalizer).
   */
  public static void flushReleases() {
    HostRuntime rt = current;
    if (rt != null) {
      rt.holds.flush(rt.bridge);
    }
  }

  /** Called by the Python host once it is connected; replaces any earlier bridge. */
  public static void install(RuntimeBridge bridge) {
    current = bridge == null ? null : new HostRuntime(bridge);
  }

  public static boolean isInstalled() {
    return current != null;
  }

  /** The installed runtime; a {@link PlaitException} saying how to get one otherwise. */
  public static HostRuntime current() {
    HostRuntime rt = current;
    if (rt == null) {
      throw new PlaitException("no plait runtime in this JVM: run the program with "
          + "`plait java -cp app.jar your.Main`, or call plait from a Java task or actor");
    }
    return rt;
  }

  private <T> T call(String what, Supplier<T> call) {
    return call(() -> what, call);
  }

  /** {@code what} is made only on failure (not on every call). Releases the holds the GC
   * has collected first. */
  private <T> T call(Supplier<String> what, Supplier<T> call) {
    holds.flush(bridge);
    try {
      return call.get();
    } catch (PlaitException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new PlaitException(what.get() + " failed: " + e.getMessage(), e);
    }
  }

  /** Positional arguments, then the keyword arguments' values (the bridge's layout: the
   * last {@code kwargs.size()} arguments are keyword arguments). */
  private static byte[][] encodeArgs(Object[] args, Map<String, ?> kwargs) {
    byte[][] out = new byte[args.length + kwargs.size()][];
    for (int i = 0; i < args.length; i++) {
      try {
        out[i] = ObjectEncoder.encodeToBytes(args[i]);
      } catch (CodecException e) {
        throw new CodecException("argument " + (i + 1) + ": " + e.getMessage(), e);
      }
    }
    int i = args.length;
    for (Map.Entry<String, ?> kw : kwargs.entrySet()) {
      try {
        out[i++] = ObjectEncoder.encodeToBytes(kw.getValue());
      } catch (CodecException e) {
        throw new CodecException("keyword argument " + kw.getKey() + ": " + e.getMessage(), e);
      }
    }
    return out;
  }

  private static String[] kwargNames(Map<String, ?> kwargs) {
    return kwargs.keySet().toArray(new String[0]);
  }

  /** Decodes an object the host returned, its refs carrying the host's holds. */
  private Object decodeHeld(byte[] encoded) {
    return ObjectDecoder.decodeWithRefs(java.nio.ByteBuffer.wrap(encoded), null, holds).value();
  }

  @SuppressWarnings("unchecked")
  private <R> ObjectRef<R> firstRef(byte[] encodedRefs, Class<R> type) {
    Object v = decodeHeld(encodedRefs);
    if (!(v instanceof List) || ((List<?>) v).isEmpty()
        || !(((List<?>) v).get(0) instanceof ObjectRef)) {
      throw new PlaitException("the runtime returned " + Conversions.describe(v)
          + " where a list of ObjectRefs was expected");
    }
    return ((ObjectRef<Object>) ((List<?>) v).get(0)).as(type);
  }

  public <R> ObjectRef<R> submitTask(String language, List<String> nameParts, Object[] args,
                                     Map<String, Double> resources, Class<R> type) {
    return submitTask(language, nameParts, args, Map.of(), resources, type);
  }

  /** Submits a task; {@code kwargs} (name to value, in order) are keyword arguments. */
  public <R> ObjectRef<R> submitTask(String language, List<String> nameParts, Object[] args,
                                     Map<String, ?> kwargs, Map<String, Double> resources,
                                     Class<R> type) {
    byte[][] encoded = encodeArgs(args, kwargs);
    String[] names = kwargNames(kwargs);
    byte[] res = ObjectEncoder.encodeToBytes(resources);
    byte[] refs;
    try {
      refs = call(() -> "submitting " + String.join(".", nameParts), () -> bridge.submitTask(
          language, nameParts.toArray(new String[0]), encoded, names, 1, res));
    } finally {
      // Refs in the arguments keep their holds until the host has them (see fence()).
      fence(args, kwargs);
    }
    return firstRef(refs, type);
  }

  public BaseActorHandle createActor(String language, List<String> nameParts, Object[] args,
                                     Map<String, Object> options) {
    return createActor(language, nameParts, args, Map.of(), options);
  }

  public BaseActorHandle createActor(String language, List<String> nameParts, Object[] args,
                                     Map<String, ?> kwargs, Map<String, Object> options) {
    byte[][] encoded = encodeArgs(args, kwargs);
    String[] names = kwargNames(kwargs);
    byte[] opts = ObjectEncoder.encodeToBytes(options);
    byte[] handle;
    try {
      handle = call("creating actor " + String.join(".", nameParts), () ->
          bridge.createActor(language, nameParts.toArray(new String[0]), encoded, names, opts));
    } finally {
      fence(args, kwargs);
    }
    return asHandle(ObjectDecoder.decode(handle));
  }

  public <R> ObjectRef<R> callActor(BaseActorHandle handle, String method, Object[] args,
                                    Class<R> type) {
    return callActor(handle, method, args, Map.of(), type);
  }

  public <R> ObjectRef<R> callActor(BaseActorHandle handle, String method, Object[] args,
                                    Map<String, ?> kwargs, Class<R> type) {
    byte[][] encoded = encodeArgs(args, kwargs);
    String[] names = kwargNames(kwargs);
    byte[] h = encodedHandle(handle);
    byte[] refs;
    try {
      refs = call(() -> "calling " + handle.className() + "." + method, () ->
          bridge.callActor(h, method, encoded, names, 1));
    } finally {
      fence(args, kwargs);
    }
    return firstRef(refs, type);
  }

  /** The last handle called and its encoding (handles are immutable; a program calls the
   * same actor over and over). */
  private volatile Object[] lastHandle = {null, null};

  private byte[] encodedHandle(BaseActorHandle handle) {
    Object[] last = lastHandle;
    if (last[0] == handle) {
      return (byte[]) last[1];
    }
    byte[] h = ObjectEncoder.encodeToBytes(handle);
    lastHandle = new Object[] {handle, h};
    return h;
  }

  public <T> ObjectRef<T> put(T value, Class<T> type) {
    byte[] encoded = ObjectEncoder.encodeToBytes(value);
    byte[] ref;
    try {
      ref = call("put", () -> bridge.put(encoded));
    } finally {
      Reference.reachabilityFence(value);
    }
    Object v = decodeHeld(ref);
    if (!(v instanceof ObjectRef)) {
      throw new PlaitException("the runtime returned " + Conversions.describe(v)
          + " where an ObjectRef was expected");
    }
    return ((ObjectRef<?>) v).as(type);
  }

  /** The values of {@code refs}, each read as its ref's type; the first failed object
   * throws its error as a {@link CrossLanguageException} ({@link io.plait.ActorDiedException}
   * when the actor is gone); {@link io.plait.GetTimeoutException} when they are not all
   * ready within {@code timeoutMs} (negative: wait for ever). */
  public <T> List<T> get(List<ObjectRef<T>> refs, long timeoutMs) {
    byte[] encoded = ObjectEncoder.encodeToBytes(refs);
    double timeout = timeoutMs < 0 ? -1.0 : timeoutMs / 1000.0;
    BufferView[] views;
    try {
      views = call("get", () -> bridge.get(encoded, timeout));
    } finally {
      Reference.reachabilityFence(refs);  // the objects stay alive until they are read
    }
    // Every value first (the refs in each carry a hold to give back), then the conversions,
    // which may throw.
    Object[] values = new Object[views.length];
    for (int i = 0; i < views.length; i++) {
      values[i] = ObjectDecoder.decodeWithRefs(views[i].buffer(), views[i].owner(), holds)
          .value();
    }
    if (views.length != refs.size()) {
      throw new PlaitException("the runtime returned " + views.length + " objects for "
          + refs.size() + " refs");
    }
    List<T> out = new ArrayList<>(views.length);
    for (int i = 0; i < views.length; i++) {
      out.add(as(values[i], refs.get(i)));
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static <T> T as(Object v, ObjectRef<T> ref) {
    Class<T> type = ref.type();
    if (v instanceof ErrorInfo && type != ErrorInfo.class) {
      throw ((ErrorInfo) v).toException();
    }
    if (Conversions.cost(v, type) == Conversions.NO) {
      throw new PlaitException("object " + ref.hex() + " holds a " + Conversions.describe(v)
          + ", which cannot be read as " + type.getSimpleName());
    }
    Object converted = Conversions.convert(v, type);
    return type.isPrimitive() ? (T) converted : type.cast(converted);
  }

  public Optional<BaseActorHandle> getActor(String name, String namespace) {
    byte[] handle = call("getActor(" + name + ")", () -> bridge.getActor(name, namespace));
    return handle == null ? Optional.empty() : Optional.of(asHandle(ObjectDecoder.decode(handle)));
  }

  public void killActor(BaseActorHandle handle) {
    byte[] h = ObjectEncoder.encodeToBytes(handle);
    call("killing " + handle, () -> {
      bridge.killActor(h);
      return null;
    });
  }

  /**
   * Keeps the arguments (and every ObjectRef in them, with its hold) reachable until the
   * call has returned: the host has its own refs to them by then (the task's arguments),
   * so no release of their holds can come before.
   */
  private static void fence(Object[] args, Map<String, ?> kwargs) {
    Reference.reachabilityFence(args);
    Reference.reachabilityFence(kwargs);
  }

  private static BaseActorHandle asHandle(Object v) {
    if (!(v instanceof BaseActorHandle)) {
      throw new PlaitException("the runtime returned " + Conversions.describe(v)
          + " where an actor handle was expected");
    }
    return (BaseActorHandle) v;
  }
}
