package io.plait.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.plait.Tensor;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class TaskExecutorTest {
  static final String KERNELS = "io.plait.fixtures.Kernels";
  static final String[] NO_KW = new String[0];

  static ByteBuffer[] args(Object... values) {
    ByteBuffer[] out = new ByteBuffer[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = ByteBuffer.wrap(ObjectEncoder.encodeToBytes(values[i]));
    }
    return out;
  }

  static Object one(byte[][] results) {
    assertEquals(1, results.length);
    return ObjectDecoder.decode(results[0]);
  }

  final TaskExecutor ex = new TaskExecutor();

  @Test
  void mathMaxOfTwoIntsPicksTheLongOverload() {
    assertEquals(7L, one(ex.callFunction("java.lang.Math", "max", args(3L, 7L), NO_KW, 1)));
  }

  @Test
  void mathMaxOfIntAndFloatPicksDouble() {
    assertEquals(7.5, one(ex.callFunction("java.lang.Math", "max", args(3L, 7.5), NO_KW, 1)));
  }

  @Test
  void overloadsRankByArgumentType() {
    assertEquals("long", one(ex.callFunction(KERNELS, "describe", args(1L), NO_KW, 1)));
    assertEquals("double", one(ex.callFunction(KERNELS, "describe", args(1.5), NO_KW, 1)));
    assertEquals("String", one(ex.callFunction(KERNELS, "describe", args("x"), NO_KW, 1)));
    assertEquals("List", one(ex.callFunction(KERNELS, "describe", args(List.of(1L)), NO_KW, 1)));
    assertEquals("long[]", one(ex.callFunction(KERNELS, "describe",
        args((Object) new long[] {1, 2}), NO_KW, 1)));
    assertEquals("Object", one(ex.callFunction(KERNELS, "describe", args(true), NO_KW, 1)));
    assertEquals("String", one(ex.callFunction(KERNELS, "describe", args((Object) null), NO_KW, 1)));
  }

  @Test
  void wrongArgumentTypesNameTheCallAndTheTypes() {
    TaskFailure f = assertThrows(TaskFailure.class,
        () -> ex.callFunction("java.lang.Math", "max", args("a", 1L), NO_KW, 1));
    assertTrue(f.getRemoteMessage().startsWith(
        "no overload of java.lang.Math.max takes (String, Long)"), f.getRemoteMessage());
    assertTrue(f.getRemoteMessage().contains("max(long, long)"), f.getRemoteMessage());
    assertEquals("java.lang.IllegalArgumentException", f.getTypeName());
    assertEquals("", f.getStackText());
  }

  @Test
  void wrongAritySaysWhatTheMethodTakes() {
    TaskFailure f = assertThrows(TaskFailure.class,
        () -> ex.callFunction("java.lang.Math", "max", args(1L, 2L, 3L), NO_KW, 1));
    assertEquals("java.lang.Math.max takes 2 arguments, got 3", f.getRemoteMessage());
  }

  @Test
  void unknownClassAndMethodAreNamed() {
    TaskFailure c = assertThrows(TaskFailure.class,
        () -> ex.callFunction("com.example.Nope", "f", args(), NO_KW, 1));
    assertEquals("java.lang.ClassNotFoundException", c.getTypeName());
    assertTrue(c.getRemoteMessage().contains("com.example.Nope"), c.getRemoteMessage());
    TaskFailure m = assertThrows(TaskFailure.class,
        () -> ex.callFunction("java.lang.Math", "nope", args(), NO_KW, 1));
    assertEquals("java.lang.NoSuchMethodException", m.getTypeName());
    assertTrue(m.getRemoteMessage().contains("'nope'"), m.getRemoteMessage());
    TaskFailure i = assertThrows(TaskFailure.class,
        () -> ex.callFunction("java.util.ArrayList", "size", args(), NO_KW, 1));
    assertTrue(i.getRemoteMessage().contains("is not static"), i.getRemoteMessage());
  }

  @Test
  void varargsCollectTrailingArguments() {
    assertEquals("3-x", one(ex.callFunction("java.lang.String", "format",
        args("%d-%s", 3L, "x"), NO_KW, 1)));
    assertEquals(List.of(1L, 2L, 3L), one(ex.callFunction("java.util.Arrays", "asList",
        args(1L, 2L, 3L), NO_KW, 1)));
  }

  @Test
  void keywordArgumentsBindByParameterName() {
    assertEquals("hi, ada", one(ex.callFunction(KERNELS, "greet", args("ada", "hi"),
        new String[] {"greeting"}, 1)));
    assertEquals("hello, bob", one(ex.callFunction(KERNELS, "greet", args("hello", "bob"),
        new String[] {"greeting", "name"}, 1)));
  }

  @Test
  void keywordArgumentsToJdkMethodsSayWhy() {
    TaskFailure f = assertThrows(TaskFailure.class, () -> ex.callFunction("java.lang.Math",
        "max", args(1L, 2L), new String[] {"b"}, 1));
    assertTrue(f.getRemoteMessage().contains("-parameters"), f.getRemoteMessage());
  }

  @Test
  void userExceptionsCarryTypeMessageAndUserFrames() {
    TaskFailure f = assertThrows(TaskFailure.class,
        () -> ex.callFunction(KERNELS, "fail", args("boom"), NO_KW, 1));
    assertEquals("java.lang.IllegalStateException", f.getTypeName());
    assertEquals("boom", f.getRemoteMessage());
    assertTrue(f.getStackText().startsWith("java.lang.IllegalStateException: boom\n"), f.getStackText());
    assertTrue(f.getStackText().contains("at io.plait.fixtures.Kernels.fail(Kernels.java"), f.getStackText());
    assertFalse(f.getStackText().contains("reflect"), f.getStackText());
  }

  @Test
  void stackOverflowIsReportedNotFatal() {
    TaskFailure f = assertThrows(TaskFailure.class,
        () -> ex.callFunction(KERNELS, "recurse", args(0L), NO_KW, 1));
    assertEquals("java.lang.StackOverflowError", f.getTypeName());
    assertEquals(7L, one(ex.callFunction("java.lang.Math", "max", args(3L, 7L), NO_KW, 1)));
  }

  @Test
  void tensorsConvertToPrimitiveArraysAndBack() {
    assertEquals(6L, one(ex.callFunction(KERNELS, "sum", args((Object) new long[] {1, 2, 3}),
        NO_KW, 1)));
    // a List of ints converts to long[] too
    assertEquals(6L, one(ex.callFunction(KERNELS, "sum", args(List.of(1L, 2L, 3L)), NO_KW, 1)));
    Tensor t = (Tensor) one(ex.callFunction(KERNELS, "scale",
        args((Object) new double[] {1, 2}, 3L), NO_KW, 1));
    assertEquals("float64", t.dtype());
    assertEquals(List.of(3.0, 6.0), List.of(t.toDoubleArray()[0], t.toDoubleArray()[1]));
  }

  @Test
  void listsOfMapsPassThrough() {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("id", 1L);
    @SuppressWarnings("unchecked")
    List<Map<Object, Object>> out = (List<Map<Object, Object>>) one(ex.callFunction(KERNELS,
        "rows", args(List.of(row)), NO_KW, 1));
    assertEquals(1L, out.get(0).get("id"));
    assertEquals(true, out.get(0).get("seen"));
  }

  @Test
  void severalReturnsComeFromAListAndAreChecked() {
    byte[][] out = ex.callFunction(KERNELS, "pair", args(1L, "b"), NO_KW, 2);
    assertEquals(1L, ObjectDecoder.decode(out[0]));
    assertEquals("b", ObjectDecoder.decode(out[1]));
    TaskFailure f = assertThrows(TaskFailure.class,
        () -> ex.callFunction(KERNELS, "pair", args(1L, "b"), NO_KW, 3));
    assertTrue(f.getRemoteMessage().contains("num_returns=3"), f.getRemoteMessage());
    assertEquals(0, ex.callFunction(KERNELS, "pair", args(1L, "b"), NO_KW, 0).length);
  }

  @Test
  void unencodableResultsAndUndecodableArgumentsAreNamed() {
    TaskFailure r = assertThrows(TaskFailure.class,
        () -> ex.callFunction(KERNELS, "unencodable", args(), NO_KW, 1));
    assertTrue(r.getRemoteMessage().contains("java.lang.Thread"), r.getRemoteMessage());
    TaskFailure a = assertThrows(TaskFailure.class, () -> ex.callFunction("java.lang.Math",
        "abs", new ByteBuffer[] {ByteBuffer.wrap(new byte[] {1, 2, 3})}, NO_KW, 1));
    assertTrue(a.getRemoteMessage().startsWith("argument 1: malformed plait object"),
        a.getRemoteMessage());
  }

  @Test
  void arrayListActor() {
    ex.createActor("java.util.ArrayList", args(), NO_KW);
    assertEquals(true, one(ex.callMethod("add", args("a"), NO_KW, 1)));
    assertEquals(true, one(ex.callMethod("add", args(2L), NO_KW, 1)));
    assertEquals("a", one(ex.callMethod("get", args(0L), NO_KW, 1)));
    assertEquals(2L, one(ex.callMethod("size", args(), NO_KW, 1)));
    assertInstanceOf(ArrayList.class, ex.actor());
    TaskFailure f = assertThrows(TaskFailure.class,
        () -> ex.callMethod("get", args(5L), NO_KW, 1));
    assertEquals("java.lang.IndexOutOfBoundsException", f.getTypeName());
    // the actor is still there
    assertEquals(2L, one(ex.callMethod("size", args(), NO_KW, 1)));
    TaskFailure again = assertThrows(TaskFailure.class,
        () -> ex.createActor("java.util.ArrayList", args(), NO_KW));
    assertTrue(again.getRemoteMessage().contains("already hosts"), again.getRemoteMessage());
  }

  @Test
  void hashMapActor() {
    ex.createActor("java.util.HashMap", args(), NO_KW);
    assertEquals(null, one(ex.callMethod("put", args("k", 1L), NO_KW, 1)));
    assertEquals(1L, one(ex.callMethod("put", args("k", 2L), NO_KW, 1)));
    assertEquals(2L, one(ex.callMethod("get", args("k"), NO_KW, 1)));
    TaskFailure f = assertThrows(TaskFailure.class,
        () -> ex.callMethod("nope", args(), NO_KW, 1));
    assertTrue(f.getRemoteMessage().contains("java.util.HashMap has no public method named 'nope'"));
  }

  @Test
  void constructorOverloadsAndAbstractClasses() {
    ex.createActor("java.lang.StringBuilder", args("ab"), NO_KW);
    // append(String) returns the StringBuilder itself: a CharSequence, sent as a str
    assertEquals("abc", one(ex.callMethod("append", args("c"), NO_KW, 1)));
    TaskFailure f = assertThrows(TaskFailure.class,
        () -> new TaskExecutor().createActor("java.util.AbstractList", args(), NO_KW));
    assertTrue(f.getRemoteMessage().contains("abstract class"), f.getRemoteMessage());
  }

  @Test
  void methodsBeforeTheActorExistAreAnError() {
    TaskFailure f = assertThrows(TaskFailure.class, () -> ex.callMethod("size", args(), NO_KW, 1));
    assertTrue(f.getRemoteMessage().contains("no actor"), f.getRemoteMessage());
  }

  @Test
  void argsOwnerIsReleasedWhenNoViewSurvives() {
    AtomicBoolean closed = new AtomicBoolean();
    ex.callFunction("java.lang.Math", "max", args(1L, 2L), NO_KW, 1, () -> closed.set(true));
    assertTrue(closed.get());
    AtomicBoolean kept = new AtomicBoolean();
    ex.callFunction(KERNELS, "describe", args(Tensor.of(new long[] {1})), NO_KW, 1,
        () -> kept.set(true));
    assertFalse(kept.get());  // a tensor view was made: its owner stays with it
  }
}
