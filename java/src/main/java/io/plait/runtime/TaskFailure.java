package io.plait.runtime;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * What {@link TaskExecutor} throws when a call fails: user code threw, or the call could
 * not be bound (unknown class or method, wrong arity, arguments that do not convert). It
 * carries what the Python side needs for a LanguageError: the failure's Java type name, its
 * message and a printable stack (user frames only; empty for binding failures). The
 * original throwable is the cause.
 */
public final class TaskFailure extends RuntimeException {
  private final String typeName;
  private final String remoteMessage;
  private final String stackText;

  private TaskFailure(Throwable cause, String stackText) {
    super(cause.getClass().getName() + ": " + cause.getMessage(), cause, false, false);
    this.typeName = cause.getClass().getName();
    this.remoteMessage = cause.getMessage() == null ? "" : cause.getMessage();
    this.stackText = stackText;
  }

  /** User code threw {@code t}. */
  static TaskFailure user(Throwable t) {
    return new TaskFailure(t, stackOf(t));
  }

  /** The call could not be made; {@code t} says why (its stack is plait's, not shown). */
  static TaskFailure binding(Throwable t) {
    return new TaskFailure(t, "");
  }

  /** e.g. {@code java.lang.IllegalStateException}. */
  public String getTypeName() {
    return typeName;
  }

  /** The failure's own message, without the type name. */
  public String getRemoteMessage() {
    return remoteMessage;
  }

  /** The Java stack trace, cut where plait's reflection call began. */
  public String getStackText() {
    return stackText;
  }

  private static boolean isCallMachinery(StackTraceElement f) {
    String c = f.getClassName();
    return c.startsWith("jdk.internal.reflect.") || c.equals("java.lang.reflect.Method")
        || c.equals("java.lang.reflect.Constructor") || c.startsWith("io.plait.runtime.");
  }

  /** Like printStackTrace, without the frames of plait's reflective call. */
  static String stackOf(Throwable top) {
    StringBuilder sb = new StringBuilder();
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    Throwable t = top;
    String prefix = "";
    while (t != null && seen.add(t)) {
      sb.append(prefix).append(t).append('\n');
      for (StackTraceElement f : t.getStackTrace()) {
        if (isCallMachinery(f)) {
          break;
        }
        sb.append("\tat ").append(f).append('\n');
      }
      t = t.getCause();
      prefix = "Caused by: ";
    }
    return sb.toString();
  }
}
