package io.plait.runtime;

import io.plait.CrossLanguageException;
import io.plait.ErrorInfo;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * What {@link TaskExecutor} throws when a call fails: user code threw, or the call could
 * not be bound (unknown class or method, wrong arity, arguments that do not convert). It
 * carries what the Python side needs for a LanguageError: the failure's Java type name, its
 * message and a printable stack (user frames only; empty for binding failures). The
 * original throwable is the cause. When user code let the failure of a call it made
 * propagate (a {@link CrossLanguageException} thrown by {@code Plait.get}, possibly wrapped),
 * that call's Error is the error's cause ({@link #getCauseInfo}), so the chain back to where
 * the error began stays whole.
 */
public final class TaskFailure extends RuntimeException {
  private final String typeName;
  private final String remoteMessage;
  private final String stackText;
  private final transient ErrorInfo causeInfo;

  private TaskFailure(Throwable cause, String stackText, ErrorInfo causeInfo) {
    super(cause.getClass().getName() + ": " + cause.getMessage(), cause, false, false);
    this.typeName = cause.getClass().getName();
    this.remoteMessage = cause.getMessage() == null ? "" : cause.getMessage();
    this.stackText = stackText;
    this.causeInfo = causeInfo;
  }

  /** User code threw {@code t}. */
  static TaskFailure user(Throwable t) {
    return new TaskFailure(t, stackOf(t), remoteCause(t));
  }

  /** The call could not be made; {@code t} says why (its stack is plait's, not shown). */
  static TaskFailure binding(Throwable t) {
    return new TaskFailure(t, "", null);
  }

  /** The Error of a failed call that {@code t} is, or was caused by; null when none. */
  static ErrorInfo remoteCause(Throwable t) {
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Throwable c = t; c != null && seen.add(c); c = c.getCause()) {
      if (c instanceof CrossLanguageException) {
        return ((CrossLanguageException) c).getErrorInfo();
      }
    }
    return null;
  }

  /** The Error this failure's user code got from a call and let propagate, or null. */
  public ErrorInfo getCauseInfo() {
    return causeInfo;
  }

  /** {@link #getCauseInfo} encoded as an object (an Error value), or null: the Python side
   * stores it as the cause of this failure's Error. */
  public byte[] getCauseError() {
    return causeInfo == null ? null : ObjectEncoder.encodeToBytes(causeInfo);
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

  /** A frame of plait's user API ({@code io.plait.Plait}, {@code io.plait.ErrorInfo}, ...). */
  private static boolean isPlaitApi(StackTraceElement f) {
    String c = f.getClassName();
    return c.startsWith("io.plait.") && c.indexOf('.', "io.plait.".length()) < 0;
  }

  /** Like printStackTrace, without the frames of plait's reflective call. */
  static String stackOf(Throwable top) {
    StringBuilder sb = new StringBuilder();
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    Throwable t = top;
    String prefix = "";
    while (t != null && seen.add(t)) {
      sb.append(prefix).append(t).append('\n');
      boolean inUserCode = false;
      for (StackTraceElement f : t.getStackTrace()) {
        if (isCallMachinery(f)) {
          if (inUserCode) {
            break;  // where plait's reflective call of the user's method began
          }
          continue;  // plait's runtime under an API call the user's code made (Plait.get)
        }
        inUserCode |= !isPlaitApi(f);
        sb.append("\tat ").append(f).append('\n');
      }
      if (t instanceof CrossLanguageException) {
        break;  // its causes are the remote chain, kept as the Error's cause, not Java frames
      }
      t = t.getCause();
      prefix = "Caused by: ";
    }
    return sb.toString();
  }
}
