package io.plait.conformance;

import io.plait.ActorClass;
import io.plait.ActorCreator;
import io.plait.ActorDiedException;
import io.plait.ActorMethod;
import io.plait.BaseActorHandle;
import io.plait.CppActorClass;
import io.plait.CppActorMethod;
import io.plait.CppFunction;
import io.plait.CrossLanguageException;
import io.plait.GetTimeoutException;
import io.plait.JavaActorClass;
import io.plait.JavaActorMethod;
import io.plait.JavaFunction;
import io.plait.ObjectRef;
import io.plait.Plait;
import io.plait.PlaitException;
import io.plait.PyActorClass;
import io.plait.PyActorMethod;
import io.plait.PyFunction;
import io.plait.RemoteFunction;
import io.plait.TaskCaller;
import io.plait.runtime.Conversions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The Java caller of the conformance suite (docs/conformance.md, "Caller"): {@link #run}
 * executes one operation against a callee language's adapter and returns its outcome,
 * never throwing for a failure of the operation.
 */
public final class Caller {
  static final String PY_MODULE = "plait_conformance_callee";
  static final String JAVA_CALLEE = "io.plait.conformance.Callee";
  static final String JAVA_COUNTER = "io.plait.conformance.Counter";

  private Caller() {}

  /** Executes {@code op} ("call" or "actor") against {@code callee}'s adapter. */
  public static Map<String, Object> run(String callee, Map<?, ?> op) {
    Object kind = op.get("op");
    try {
      if ("call".equals(kind)) {
        return call(callee, op);
      }
      if ("actor".equals(kind)) {
        return actor(callee, op);
      }
      return failed(error("other", "", "java", "unknown op " + kind));
    } catch (RuntimeException e) {  // a malformed op, or a bug here: still an outcome
      return failed(describe(e, "other"));
    }
  }

  // -- names ------------------------------------------------------------------------------

  static RemoteFunction<Object> function(String callee, String name) {
    switch (callee) {
      case "python":
        return PyFunction.of(PY_MODULE, name);
      case "cpp":
        return CppFunction.of(name);
      case "java":
        return JavaFunction.of(JAVA_CALLEE, name);
      default:
        throw new IllegalArgumentException("unknown callee language '" + callee + "'");
    }
  }

  static ActorClass<? extends BaseActorHandle> actorClass(String callee, String name) {
    switch (callee) {
      case "python":
        return PyActorClass.of(PY_MODULE, name);
      case "cpp":
        return CppActorClass.of(name);
      case "java":
        return JavaActorClass.of("Counter".equals(name) ? JAVA_COUNTER : name);
      default:
        throw new IllegalArgumentException("unknown callee language '" + callee + "'");
    }
  }

  /** A method by its runtime name, for a handle of any language. */
  static ActorMethod<Object> method(BaseActorHandle handle, String name) {
    switch (handle.language()) {
      case "python":
        return PyActorMethod.of(name);
      case "cpp":
        return CppActorMethod.of(name);
      default:
        return JavaActorMethod.of(name);
    }
  }

  // -- call -------------------------------------------------------------------------------

  static Map<String, Object> call(String callee, Map<?, ?> op) {
    long timeoutMs = timeoutMs(op);
    ObjectRef<Object> result;
    try {
      List<Object> args = new ArrayList<>(list(op.get("args")));
      for (Object i : list(op.get("put_args"))) {
        args.set(index(i), Plait.put(args.get(index(i))));
      }
      Object via = op.get("chain_via");
      for (Object i : list(op.get("chain_args"))) {
        args.set(index(i), Plait.task(function(callee, via == null ? "echo" : (String) via),
            args.get(index(i))).remote());
      }
      for (Object i : list(op.get("wrap_args"))) {
        List<Object> one = new ArrayList<>();
        one.add(args.get(index(i)));
        args.set(index(i), one);
      }
      TaskCaller<Object> task = Plait.task(function(callee, (String) op.get("function")),
          args.toArray());
      Object kwargs = op.get("kwargs");
      if (kwargs != null) {
        for (Map.Entry<?, ?> kw : ((Map<?, ?>) kwargs).entrySet()) {
          task.setKwarg((String) kw.getKey(), kw.getValue());
        }
      }
      result = task.remote();
    } catch (RuntimeException e) {
      return failed(e);
    }
    try {
      Object value = Plait.get(result, timeoutMs);
      if (Boolean.TRUE.equals(op.get("get_result_ref"))) {
        if (!(value instanceof ObjectRef)) {
          return failed(error("other", "", "java", "expected an ObjectRef result, got "
              + Conversions.describe(value)));
        }
        value = Plait.get((ObjectRef<?>) value, timeoutMs);
      }
      return ok(value);
    } catch (RuntimeException e) {
      return fetchFailed(e);
    }
  }

  // -- actor ------------------------------------------------------------------------------

  static Map<String, Object> actor(String callee, Map<?, ?> op) {
    long timeoutMs = timeoutMs(op);
    BaseActorHandle handle = null;
    BaseActorHandle target;
    try {
      Object className = op.get("class");
      ActorCreator<? extends BaseActorHandle> creator = Plait.actor(
          actorClass(callee, className == null ? "Counter" : (String) className),
          list(op.get("args")).toArray());
      String name = (String) op.get("name");
      if (name != null && !name.isEmpty()) {
        creator.setName(name);
      }
      handle = creator.remote();
      target = handle;
      if (Boolean.TRUE.equals(op.get("lookup"))) {
        Optional<BaseActorHandle> found = Plait.getActor(name == null ? "" : name);
        if (found.isEmpty()) {
          kill(handle);
          return failed(error("other", "", "java", "get_actor('" + name + "') found no actor"));
        }
        target = found.get();
      }
    } catch (RuntimeException e) {
      kill(handle);
      return failed(e);
    }
    // Per call: an ObjectRef to fetch, or an outcome already known.
    List<Object> pending = new ArrayList<>();
    List<Map<String, Object>> results = new ArrayList<>();
    try {
      for (Object c : list(op.get("calls"))) {
        Map<?, ?> call = (Map<?, ?>) c;
        try {
          if (Boolean.TRUE.equals(call.get("kill"))) {
            collect(pending, results, timeoutMs);
            target.kill();
            pending.add(ok(null));
          } else if (call.containsKey("method")) {
            pending.add(target.task(method(target, (String) call.get("method")),
                list(call.get("args")).toArray()).remote());
          } else {
            // A sync point: calls through a passed handle come from another caller, so
            // they are not ordered with this caller's own.
            collect(pending, results, timeoutMs);
            List<Object> args = new ArrayList<>();
            if (Boolean.TRUE.equals(call.get("handle_arg"))) {
              args.add(target);
            }
            args.addAll(list(call.get("args")));
            pending.add(Plait.task(function(callee, (String) call.get("function")),
                args.toArray()).remote());
            collect(pending, results, timeoutMs);
          }
        } catch (RuntimeException e) {
          pending.add(failed(e));
        }
      }
      collect(pending, results, timeoutMs);
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("ok", true);
      out.put("results", results);
      return out;
    } finally {
      kill(handle);
    }
  }

  /** Fetches the pending calls' results in order (each get with the op's timeout). */
  @SuppressWarnings("unchecked")
  private static void collect(List<Object> pending, List<Map<String, Object>> results,
                              long timeoutMs) {
    for (Object item : pending) {
      if (item instanceof Map) {
        results.add((Map<String, Object>) item);
        continue;
      }
      try {
        results.add(ok(Plait.get((ObjectRef<?>) item, timeoutMs)));
      } catch (RuntimeException e) {
        results.add(fetchFailed(e));
      }
    }
    pending.clear();
  }

  private static void kill(BaseActorHandle handle) {
    if (handle == null) {
      return;
    }
    try {
      handle.kill();
    } catch (RuntimeException e) {
      // already dead
    }
  }

  // -- outcomes ---------------------------------------------------------------------------

  static Map<String, Object> ok(Object value) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("ok", true);
    out.put("value", value);
    return out;
  }

  static Map<String, Object> failed(Map<String, Object> error) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("ok", false);
    out.put("error", error);
    return out;
  }

  /** A failure before or while submitting: a refusal here is the call's failure. */
  static Map<String, Object> failed(RuntimeException e) {
    return failed(describe(e, "task"));
  }

  /** A failure while getting a result: the remote error, or the get's own failure. */
  static Map<String, Object> fetchFailed(RuntimeException e) {
    return failed(describe(e, "other"));
  }

  static Map<String, Object> error(String kind, String type, String language, String message) {
    Map<String, Object> err = new LinkedHashMap<>();
    err.put("kind", kind);
    err.put("type", type);
    err.put("language", language);
    err.put("message", message);
    return err;
  }

  /**
   * An exception as the contract's error: a remote failure keeps its type, language and
   * message (with the remote stack); a dead actor is actor_died, a get past its timeout is
   * timeout; plait's system errors (a crashed worker, a lost object) are other. A local
   * PlaitException is {@code localKind}: task when the runtime refused to submit the call
   * (an argument the codec cannot write, a keyword argument C++ does not take: as if the
   * callee had refused it), other when a get failed (a result this codec cannot read).
   */
  static Map<String, Object> describe(RuntimeException e, String localKind) {
    if (e instanceof CrossLanguageException) {
      CrossLanguageException x = (CrossLanguageException) e;
      String message = x.getRemoteMessage();
      if (!x.getRemoteStack().isEmpty()) {
        message += "\n" + x.getRemoteStack();
      }
      String kind = e instanceof ActorDiedException ? "actor_died"
          : isSystemError(x) ? "other" : "task";
      return error(kind, x.getTypeName(), x.getLanguage(), message);
    }
    String type = e.getClass().getName();
    String message = e.getMessage() == null ? "" : e.getMessage();
    if (e instanceof GetTimeoutException) {
      return error("timeout", type, "java", message);
    }
    if (e instanceof PlaitException || e instanceof IllegalArgumentException) {
      return error(localKind, type, "java", message);
    }
    return error("other", type, "java", message);
  }

  /** plait's own failures (Python's RayError subclasses other than a task's error). */
  private static boolean isSystemError(CrossLanguageException e) {
    String type = e.getTypeName();
    return "python".equals(e.getLanguage()) && type.startsWith("plait.exceptions.")
        && !type.startsWith("plait.exceptions.RayTaskError")
        && !type.startsWith("plait.exceptions.CrossLanguageError");
  }

  // -- op fields --------------------------------------------------------------------------

  private static List<?> list(Object v) {
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof List)) {
      throw new IllegalArgumentException("expected a list in the op, got "
          + Conversions.describe(v));
    }
    return (List<?>) v;
  }

  private static int index(Object i) {
    return ((Number) i).intValue();
  }

  private static long timeoutMs(Map<?, ?> op) {
    Object t = op.get("timeout_s");
    return t instanceof Number ? Math.round(((Number) t).doubleValue() * 1000) : 60_000;
  }
}
