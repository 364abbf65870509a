package io.plait.runtime;

import static io.plait.runtime.TaskExecutorTest.NO_KW;
import static io.plait.runtime.TaskExecutorTest.args;
import static io.plait.runtime.TaskExecutorTest.one;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Public methods a class inherits (from non-public superclasses, public ones, interfaces'
 * default methods) are callable, by the same overload rules as its own. */
class InheritedMethodsTest {
  static final String INHERITED = "io.plait.fixtures.Inherited";

  final TaskExecutor ex = new TaskExecutor();

  @Test
  void stringBuilderMethodsFromItsNonPublicSuperclass() {
    ex.createActor("java.lang.StringBuilder", args(), NO_KW);
    // length, charAt, setLength and capacity are AbstractStringBuilder's (not public)
    assertEquals(0L, one(ex.callMethod("length", args(), NO_KW, 1)));
    assertEquals("ab", one(ex.callMethod("append", args("ab"), NO_KW, 1)));
    // append(long) over append(double)/append(Object)/...: the overload rules still apply
    assertEquals("ab7", one(ex.callMethod("append", args(7L), NO_KW, 1)));
    assertEquals(3L, one(ex.callMethod("length", args(), NO_KW, 1)));
    assertEquals("b", one(ex.callMethod("charAt", args(1L), NO_KW, 1)));
    assertEquals(null, one(ex.callMethod("setLength", args(1L), NO_KW, 1)));
    assertEquals("a", one(ex.callMethod("toString", args(), NO_KW, 1)));
    assertTrue((Long) one(ex.callMethod("capacity", args(), NO_KW, 1)) >= 1L);
    // CharSequence.isEmpty: a default method of a public interface
    assertEquals(false, one(ex.callMethod("isEmpty", args(), NO_KW, 1)));
  }

  @Test
  void userClassInheritingFromANonPublicClass() {
    ex.createActor(INHERITED, args(), NO_KW);
    assertEquals(2L, one(ex.callMethod("add", args(2L), NO_KW, 1)));
    assertEquals(5L, one(ex.callMethod("add", args(3L), NO_KW, 1)));
    assertEquals("long", one(ex.callMethod("kind", args(1L), NO_KW, 1)));
    assertEquals("String", one(ex.callMethod("kind", args("x"), NO_KW, 1)));
    // a non-public interface's default (overriding a public interface's abstract method)
    assertEquals("hi, ada", one(ex.callMethod("greet", args("ada"), NO_KW, 1)));
    // a public interface's default
    assertEquals(42L, one(ex.callMethod("size", args(), NO_KW, 1)));
    // static methods inherited from the superclasses, called on the actor
    assertEquals(8L, one(ex.callMethod("twice", args(4L), NO_KW, 1)));
  }

  @Test
  void staticMethodsInheritedFromSuperclassesAreFunctions() {
    // declared in a non-public superclass (no bridge: made accessible)
    assertEquals(8L, one(ex.callFunction(INHERITED, "twice", args(4L), NO_KW, 1)));
    // declared in a public superclass two levels up
    assertEquals(12L, one(ex.callFunction(INHERITED, "thrice", args(4L), NO_KW, 1)));
    // an inherited instance method is still not a function
    TaskFailure f = assertThrows(TaskFailure.class,
        () -> ex.callFunction(INHERITED, "add", args(1L), NO_KW, 1));
    assertTrue(f.getRemoteMessage().contains("is not static"), f.getRemoteMessage());
  }

  @Test
  void inheritedMethodsGiveTheSameClearErrors() {
    ex.createActor("java.lang.StringBuilder", args("ab"), NO_KW);
    // each signature is listed once, bridges and all
    TaskFailure types = assertThrows(TaskFailure.class,
        () -> ex.callMethod("charAt", args("x"), NO_KW, 1));
    assertEquals("no overload of java.lang.StringBuilder.charAt takes (String); overloads: "
        + "charAt(int)", types.getRemoteMessage());
    assertEquals("java.lang.IllegalArgumentException", types.getTypeName());
    TaskFailure arity = assertThrows(TaskFailure.class,
        () -> ex.callMethod("length", args(1L), NO_KW, 1));
    assertEquals("java.lang.StringBuilder.length takes 0 arguments, got 1",
        arity.getRemoteMessage());
    TaskFailure absent = assertThrows(TaskFailure.class,
        () -> ex.callMethod("nope", args(), NO_KW, 1));
    assertEquals("java.lang.StringBuilder has no public method named 'nope'",
        absent.getRemoteMessage());
    assertEquals("java.lang.NoSuchMethodException", absent.getTypeName());
    // the actor is unharmed
    assertEquals(2L, one(ex.callMethod("length", args(), NO_KW, 1)));
  }

  @Test
  void appendOverloadsAreEachListedOnce() {
    ex.createActor("java.lang.StringBuilder", args(), NO_KW);
    TaskFailure f = assertThrows(TaskFailure.class,
        () -> ex.callMethod("append", args("a", "b"), NO_KW, 1));
    String msg = f.getRemoteMessage();
    assertTrue(msg.startsWith("java.lang.StringBuilder.append takes 1 or 3 arguments, got 2"),
        msg);
    TaskFailure g = assertThrows(TaskFailure.class,
        () -> ex.callMethod("insert", args("a"), NO_KW, 1));
    assertTrue(g.getRemoteMessage().contains("takes 2 or 4 arguments"), g.getRemoteMessage());
  }
}
