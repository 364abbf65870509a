package io.plait.runtime;

import java.io.File;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs Java code for a Java worker: any public static method as a task, any public class as
 * an actor, found by reflection (no annotation, JDK classes included: {@code
 * java.lang.Math.max} is a task, {@code java.util.ArrayList} an actor).
 *
 * <p>Arguments arrive as encoded objects (one ByteBuffer each; the last {@code
 * kwargNames.length} are keyword arguments), results leave as encoded objects (one per
 * return value). Overloads are chosen as {@link Overloads} describes; values convert as
 * {@link Conversions} describes. Every failure, the user's or the binding's, is thrown as a
 * {@link TaskFailure}: nothing a call does (an exception, a StackOverflowError) ends the
 * JVM or the actor.
 *
 * <p>Zero copy: tensors and Arrow data in the arguments are views of the argument buffers.
 * Give the {@code argsOwner} overloads the object that keeps those buffers' memory alive;
 * the views hold it, and it is closed right after the call when no view was made.
 */
public final class TaskExecutor {
  private final ClassLoader loader;
  private final Map<String, List<Method>> methodCache = new ConcurrentHashMap<>();
  /** For a method declared in a non-public class: what to invoke instead (see
   * {@link #accessibleMethod}), keyed by (owner class, method). */
  private final Map<List<Object>, Optional<Method>> accessCache = new ConcurrentHashMap<>();
  private volatile Object actor;
  private volatile Class<?> actorClass;

  public TaskExecutor() {
    this(new String[0]);
  }

  /** Classes are looked up on the JVM's class path, then in {@code extraClassPath} (jar
   * files and class directories). */
  public TaskExecutor(String[] extraClassPath) {
    ClassLoader parent = TaskExecutor.class.getClassLoader();
    if (extraClassPath.length == 0) {
      loader = parent;
      return;
    }
    URL[] urls = new URL[extraClassPath.length];
    for (int i = 0; i < urls.length; i++) {
      try {
        urls[i] = new File(extraClassPath[i]).toURI().toURL();
      } catch (MalformedURLException e) {
        throw new IllegalArgumentException("bad class path entry " + extraClassPath[i], e);
      }
    }
    loader = new URLClassLoader(urls, parent);
  }

  // -- tasks --------------------------------------------------------------------------

  public byte[][] callFunction(String className, String method, ByteBuffer[] args,
                               String[] kwargNames, int numReturns) {
    return callFunction(className, method, args, kwargNames, numReturns, null);
  }

  /** Runs the public static method {@code className.method} on the decoded arguments. */
  public byte[][] callFunction(String className, String method, ByteBuffer[] args,
                               String[] kwargNames, int numReturns, AutoCloseable argsOwner) {
    String what = className + "." + method;
    Object result;
    boolean[] views = {false};
    int[] decoded = {0};
    try {
      Class<?> cls = loadClass(className);
      List<Method> statics = new ArrayList<>();
      boolean instanceOnly = false;
      for (Method m : methods(cls, method)) {
        if (Modifier.isStatic(m.getModifiers())) {
          statics.add(m);
        } else {
          instanceOnly = true;
        }
      }
      if (statics.isEmpty()) {
        throw binding(new NoSuchMethodException(instanceOnly
            ? what + " is not static: create " + className + " as an actor "
                + "(plait.java_actor_class) to call it"
            : className + " has no public static method named '" + method + "'"));
      }
      List<Object> values = decodeArgs(args, argsOwner, views, decoded);
      Overloads.Binding b = bind(what, method, statics, values, kwargNames);
      result = invoke(b, null, cls);
    } finally {
      releaseUndecoded(args, decoded);
      release(argsOwner, views);
    }
    return encodeReturns(what, result, numReturns);
  }

  // -- actors -------------------------------------------------------------------------

  public void createActor(String className, ByteBuffer[] args, String[] kwargNames) {
    createActor(className, args, kwargNames, null);
  }

  /** Constructs this executor's actor: {@code new className(args...)}. */
  public void createActor(String className, ByteBuffer[] args, String[] kwargNames,
                          AutoCloseable argsOwner) {
    boolean[] views = {false};
    int[] decoded = {0};
    try {
      if (actor != null) {
        throw binding(new IllegalStateException("this worker already hosts an actor of class "
            + actorClass.getName()));
      }
      Class<?> cls = loadClass(className);
      if (cls.isInterface() || Modifier.isAbstract(cls.getModifiers())) {
        throw binding(new InstantiationException("cannot create an actor of "
            + (cls.isInterface() ? "interface " : "abstract class ") + className));
      }
      List<Constructor<?>> ctors = Arrays.asList(cls.getConstructors());
      if (ctors.isEmpty()) {
        throw binding(new NoSuchMethodException(className + " has no public constructor"));
      }
      List<Object> values = decodeArgs(args, argsOwner, views, decoded);
      Overloads.Binding b = bind(className, cls.getSimpleName(), ctors, values, kwargNames);
      Object instance = invoke(b, null, cls);
      actorClass = cls;
      actor = instance;
    } finally {
      releaseUndecoded(args, decoded);
      release(argsOwner, views);
    }
  }

  public byte[][] callMethod(String method, ByteBuffer[] args, String[] kwargNames,
                             int numReturns) {
    return callMethod(method, args, kwargNames, numReturns, null);
  }

  /** Calls a public method (instance or static) of this executor's actor. */
  public byte[][] callMethod(String method, ByteBuffer[] args, String[] kwargNames,
                             int numReturns, AutoCloseable argsOwner) {
    Object result;
    String what;
    boolean[] views = {false};
    int[] decoded = {0};
    try {
      Object target = actor;
      if (target == null) {
        throw binding(new IllegalStateException("no actor has been created on this worker"));
      }
      Class<?> cls = actorClass;
      what = cls.getName() + "." + method;
      List<Method> candidates = methods(cls, method);
      if (candidates.isEmpty()) {
        throw binding(new NoSuchMethodException(cls.getName() + " has no public method named '"
            + method + "'"));
      }
      List<Object> values = decodeArgs(args, argsOwner, views, decoded);
      Overloads.Binding b = bind(what, method, candidates, values, kwargNames);
      result = invoke(b, target, cls);
    } finally {
      releaseUndecoded(args, decoded);
      release(argsOwner, views);
    }
    return encodeReturns(what, result, numReturns);
  }

  /** The actor instance (null before createActor), e.g. for tests and the worker. */
  public Object actor() {
    return actor;
  }

  // -- the Python executor's entry points ----------------------------------------------
  //
  // One JPype call per task, with arguments in the form cheapest to make in Python:
  // argument i is inline[i] (an encoded object Python copied into a Java array: small
  // inline values) or, where inline[i] is null, views[i] (a direct buffer over Python
  // memory, e.g. a shared-memory store object, that viewsOwner keeps alive). views may be
  // null when every argument is inline, kwargNames null when there are none.
  //
  // Each gives the holds the GC collected back to the host before and after the call (on
  // this thread, inside the task: the host lets them go once the task's results are
  // registered, so a ref the task returns is never freed in between).

  /** {@link #callFunction} for the Python executor (see above); the result is {@link
   * #pyResults}'s. */
  public Object pyCallFunction(String className, String method, byte[][] inline,
                               ByteBuffer[] views, String[] kwargNames, int numReturns,
                               AutoCloseable viewsOwner) {
    HostRuntime.flushReleases();
    try {
      return pyResults(callFunction(className, method, buffers(inline, views),
          names(kwargNames), numReturns, viewsOwner));
    } finally {
      HostRuntime.flushReleases();
    }
  }

  /** {@link #createActor} for the Python executor (see above). */
  public void pyCreateActor(String className, byte[][] inline, ByteBuffer[] views,
                            String[] kwargNames, AutoCloseable viewsOwner) {
    HostRuntime.flushReleases();
    try {
      createActor(className, buffers(inline, views), names(kwargNames), viewsOwner);
    } finally {
      HostRuntime.flushReleases();
    }
  }

  /** {@link #callMethod} for the Python executor (see above); the result is {@link
   * #pyResults}'s. */
  public Object pyCallMethod(String method, byte[][] inline, ByteBuffer[] views,
                             String[] kwargNames, int numReturns, AutoCloseable viewsOwner) {
    HostRuntime.flushReleases();
    try {
      return pyResults(callMethod(method, buffers(inline, views), names(kwargNames),
          numReturns, viewsOwner));
    } finally {
      HostRuntime.flushReleases();
    }
  }

  /** The one encoded result itself (a byte[]: one JPype object for Python to read, the
   * common case), or the byte[][] of them when there are none or several. */
  private static Object pyResults(byte[][] results) {
    return results.length == 1 ? results[0] : results;
  }

  private static final String[] NO_NAMES = new String[0];

  private static String[] names(String[] kwargNames) {
    return kwargNames == null ? NO_NAMES : kwargNames;
  }

  private static ByteBuffer[] buffers(byte[][] inline, ByteBuffer[] views) {
    int n = inline != null ? inline.length : views != null ? views.length : 0;
    ByteBuffer[] out = new ByteBuffer[n];
    for (int i = 0; i < n; i++) {
      byte[] b = inline != null ? inline[i] : null;
      // A heap buffer: decoded tensors view the array itself, which the GC keeps alive
      // while they are reachable; no owner needed.
      out[i] = b != null ? ByteBuffer.wrap(b) : views != null ? views[i] : null;
      if (out[i] == null) {
        throw binding(new IllegalArgumentException("argument " + (i + 1) + " is missing"));
      }
    }
    return out;
  }

  // -- helpers ------------------------------------------------------------------------

  private static TaskFailure binding(Throwable t) {
    return TaskFailure.binding(t);
  }

  private Class<?> loadClass(String className) {
    try {
      Class<?> cls = Class.forName(className, true, loader);
      if (!Modifier.isPublic(cls.getModifiers())) {
        throw binding(new IllegalAccessException("class " + className + " is not public"));
      }
      return cls;
    } catch (ClassNotFoundException e) {
      throw binding(new ClassNotFoundException("no class named " + className
          + " on the job's class path"));
    } catch (LinkageError | RuntimeException e) {
      if (e instanceof TaskFailure) {
        throw e;
      }
      // A static initializer threw, or a dependency is missing: the user's problem.
      throw TaskFailure.user(e instanceof ExceptionInInitializerError && e.getCause() != null
          ? e.getCause() : e);
    }
  }

  /**
   * Every public method named {@code name} that {@code cls} has, its own or inherited
   * (from superclasses, public or not, and interfaces, default methods included), one per
   * parameter list: the most specific declaration (the class's own, or the most derived,
   * with the most specific return type). Bridges are dropped except javac's visibility
   * bridges: a public class inheriting a public method from a non-public superclass (the
   * JDK's {@code StringBuilder.length()} from {@code AbstractStringBuilder}) gets a bridge
   * that is the only public declaration of that method reflection sees.
   */
  private List<Method> methods(Class<?> cls, String name) {
    return methodCache.computeIfAbsent(cls.getName() + "#" + name, k -> {
      Map<List<Class<?>>, Method> bySignature = new LinkedHashMap<>();
      for (Method m : cls.getMethods()) {
        if (!m.getName().equals(name) || (m.isBridge() && !isVisibilityBridge(m))) {
          continue;
        }
        List<Class<?>> sig = Arrays.asList(m.getParameterTypes());
        Method seen = bySignature.get(sig);
        if (seen == null || moreSpecific(m, seen)) {
          bySignature.put(sig, m);
        }
      }
      return List.copyOf(bySignature.values());
    });
  }

  /** Whether {@code m} should stand for its signature rather than {@code seen}. */
  private static boolean moreSpecific(Method m, Method seen) {
    if (m.isBridge() != seen.isBridge()) {
      return !m.isBridge();
    }
    Class<?> md = m.getDeclaringClass();
    Class<?> sd = seen.getDeclaringClass();
    if (md != sd) {
      return sd.isAssignableFrom(md);
    }
    return seen.getReturnType().isAssignableFrom(m.getReturnType())
        && m.getReturnType() != seen.getReturnType();
  }

  /** A bridge javac wrote only to make an inherited public method of a non-public
   * superclass public (same name, parameters and return type), not one for generics or a
   * covariant return: a superclass that is not public declares the bridged method. */
  private static boolean isVisibilityBridge(Method bridge) {
    for (Class<?> s = bridge.getDeclaringClass().getSuperclass(); s != null;
         s = s.getSuperclass()) {
      for (Method d : s.getDeclaredMethods()) {
        if (!d.isBridge() && d.getName().equals(bridge.getName())
            && d.getReturnType() == bridge.getReturnType()
            && Arrays.equals(d.getParameterTypes(), bridge.getParameterTypes())) {
          return Modifier.isPublic(d.getModifiers()) && !Modifier.isPublic(s.getModifiers());
        }
      }
    }
    return false;
  }

  /**
   * The arguments' values. The host holds every ref inside them for Java: each ref decoded
   * carries one of those holds (RefHolds), given back once the GC has collected it, so a
   * ref the code keeps (actor state) stays alive and one it drops is released.
   * {@code decoded[0]} counts the arguments tried (see {@link #releaseUndecoded}).
   */
  private static List<Object> decodeArgs(ByteBuffer[] args, Object owner, boolean[] views,
                                         int[] decoded) {
    RefHolds holds = HostRuntime.installedHolds();
    List<Object> values = new ArrayList<>(args.length);
    for (int i = 0; i < args.length; i++) {
      decoded[0] = i + 1;
      try {
        ObjectDecoder.Decoded d = ObjectDecoder.decodeWithRefs(args[i], owner, holds);
        views[0] |= d.viewsInput();
        values.add(d.value());
      } catch (CodecException e) {
        throw binding(new CodecException("argument " + (i + 1) + ": " + e.getMessage()));
      }
    }
    return values;
  }

  private static Overloads.Binding bind(String what, String name,
                                        List<? extends Executable> candidates,
                                        List<Object> values, String[] kwargNames) {
    if (kwargNames.length > values.size()) {
      throw binding(new IllegalArgumentException(kwargNames.length + " keyword names for "
          + values.size() + " arguments"));
    }
    try {
      return Overloads.bind(what, name, candidates, values, Arrays.asList(kwargNames));
    } catch (IllegalArgumentException e) {
      throw binding(e);
    }
  }

  /** Runs the bound method of {@code owner} (the function's or the actor's class). */
  private Object invoke(Overloads.Binding b, Object target, Class<?> owner) {
    Thread thread = Thread.currentThread();
    ClassLoader saved = thread.getContextClassLoader();
    thread.setContextClassLoader(loader);
    try {
      if (b.target instanceof Constructor) {
        Constructor<?> c = (Constructor<?>) b.target;
        accessible(c);
        return c.newInstance(b.args);
      }
      Method m = accessibleMethod((Method) b.target, owner);
      return m.invoke(target, b.args);
    } catch (InvocationTargetException e) {
      throw TaskFailure.user(e.getCause() != null ? e.getCause() : e);
    } catch (ReflectiveOperationException | IllegalArgumentException e) {
      throw binding(e);
    } catch (Throwable e) {  // e.g. ExceptionInInitializerError, StackOverflowError
      throw TaskFailure.user(e);
    } finally {
      thread.setContextClassLoader(saved);
    }
  }

  private static void accessible(Executable e) {
    if (!Modifier.isPublic(e.getDeclaringClass().getModifiers())) {
      e.trySetAccessible();
    }
  }

  /**
   * A public method declared in a non-public class (inherited by the public {@code owner})
   * is called through a public type's declaration of the same signature (a public
   * superclass or interface of {@code owner}: the call still dispatches to the inherited
   * code), or else made accessible where module rules allow (classes on the class path);
   * when neither works the error names the method and why.
   */
  private Method accessibleMethod(Method m, Class<?> owner) throws IllegalAccessException {
    if (Modifier.isPublic(m.getDeclaringClass().getModifiers())) {
      return m;
    }
    Optional<Method> found = accessCache.computeIfAbsent(List.of(owner, m), k -> {
      Method pub = Modifier.isStatic(m.getModifiers()) ? null : publicDeclaration(m, owner);
      if (pub != null) {
        return Optional.of(pub);
      }
      return m.trySetAccessible() ? Optional.of(m) : Optional.empty();
    });
    if (found.isEmpty()) {
      throw new IllegalAccessException(owner.getName() + "." + Overloads.signature(m.getName(), m)
          + " is declared in " + m.getDeclaringClass().getName() + ", which is not public, "
          + "and no public supertype of " + owner.getName() + " declares it; its module does "
          + "not open it to reflection");
    }
    return found.get();
  }

  /** The same instance method (name, parameters) declared public by a public type among
   * {@code owner} and its supertypes, nearest first (calling it dispatches to {@code m},
   * which overrides it); null when there is none. A static method has no such stand-in:
   * a public superclass's static of the same signature is other code that {@code m}
   * hides. */
  private static Method publicDeclaration(Method m, Class<?> owner) {
    ArrayDeque<Class<?>> queue = new ArrayDeque<>(List.of(owner));
    Set<Class<?>> seen = new HashSet<>();
    while (!queue.isEmpty()) {
      Class<?> c = queue.poll();
      if (!seen.add(c)) {
        continue;
      }
      if (Modifier.isPublic(c.getModifiers())) {
        for (Method d : c.getDeclaredMethods()) {
          if (d.getName().equals(m.getName()) && Modifier.isPublic(d.getModifiers())
              && !Modifier.isStatic(d.getModifiers())
              && Arrays.equals(d.getParameterTypes(), m.getParameterTypes())) {
            return d;
          }
        }
      }
      if (c.getSuperclass() != null) {
        queue.add(c.getSuperclass());
      }
      queue.addAll(Arrays.asList(c.getInterfaces()));
    }
    return null;
  }

  /** A call that failed before decoding every argument: the refs in the rest carry holds
   * too, which are given back (decoded here only to find them, then dropped). */
  private static void releaseUndecoded(ByteBuffer[] args, int[] decoded) {
    RefHolds holds = HostRuntime.installedHolds();
    if (holds == null || args == null) {
      return;
    }
    for (int i = decoded[0]; i < args.length; i++) {
      try {
        ObjectDecoder.decodeWithRefs(args[i].duplicate(), null, holds);
      } catch (RuntimeException e) {
        // undecodable: its refs (if any) cannot be found; the host keeps those objects
      }
    }
  }

  /** When no argument kept a view of its buffer, the buffers can go at once (rather than
   * when the JVM's GC collects the owner). */
  private static void release(AutoCloseable owner, boolean[] views) {
    if (owner != null && !views[0]) {
      try {
        owner.close();
      } catch (Exception e) {
        // Releasing is best effort: the GC frees the owner later anyway.
      }
    }
  }

  private static byte[][] encodeReturns(String what, Object result, int numReturns) {
    try {
      if (numReturns == 0) {
        return new byte[0][];
      }
      if (numReturns == 1) {
        return new byte[][] {ObjectEncoder.encodeToBytes(result)};
      }
      List<?> items = result instanceof List ? (List<?>) result
          : result instanceof Object[] ? Arrays.asList((Object[]) result) : null;
      if (items == null || items.size() != numReturns) {
        throw binding(new IllegalArgumentException(what + " returned "
            + Conversions.describe(result) + (items != null ? " of " + items.size() + " items" : "")
            + ", but num_returns=" + numReturns + " needs a List or array of " + numReturns
            + " values"));
      }
      byte[][] out = new byte[numReturns][];
      for (int i = 0; i < numReturns; i++) {
        out[i] = ObjectEncoder.encodeToBytes(items.get(i));
      }
      return out;
    } catch (CodecException e) {
      throw binding(new CodecException("the result of " + what + ": " + e.getMessage()));
    }
  }
}
