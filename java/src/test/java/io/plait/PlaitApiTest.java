package io.plait;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.plait.runtime.BufferView;
import io.plait.runtime.HostRuntime;
import io.plait.runtime.ObjectDecoder;
import io.plait.runtime.ObjectEncoder;
import io.plait.runtime.RuntimeBridge;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The user API over an in-memory RuntimeBridge (what the Python host does, faked). */
class PlaitApiTest {
  /** Stores objects in a map; a "task" returns its arguments' sum or fails. */
  static final class FakeBridge implements RuntimeBridge {
    final Map<String, byte[]> objects = new HashMap<>();
    final List<String> calls = new ArrayList<>();
    int next;

    ObjectRef<Object> store(byte[] encoded) {
      byte[] id = new byte[20];
      id[19] = (byte) ++next;
      objects.put(HexFormat.of().formatHex(id), encoded);
      return ObjectRef.untyped(id, new ObjectRef.Owner("n", "127.0.0.1", 1, new byte[16]));
    }

    @Override
    public byte[] put(byte[] encodedValue) {
      return ObjectEncoder.encodeToBytes(store(encodedValue));
    }

    @Override
    public BufferView[] get(byte[] encodedRefs, double timeoutSeconds) {
      List<?> refs = (List<?>) ObjectDecoder.decode(encodedRefs);
      BufferView[] out = new BufferView[refs.size()];
      for (int i = 0; i < out.length; i++) {
        byte[] data = objects.get(((ObjectRef<?>) refs.get(i)).hex());
        if (data == null) {  // what the Python bridge throws for a GetTimeoutError
          throw new GetTimeoutException("get: GetTimeoutError: timed out after "
              + timeoutSeconds);
        }
        out[i] = new BufferView(ByteBuffer.wrap(data), null);
      }
      return out;
    }

    @Override
    public byte[] submitTask(String language, String[] nameParts, byte[][] args,
                             String[] kwargNames, int numReturns, byte[] encodedResources) {
      calls.add(language + ":" + String.join(".", nameParts) + " " + ObjectDecoder.decode(encodedResources));
      Object result;
      if (kwargNames.length > 0) {
        calls.add("kwargs " + String.join(",", kwargNames));
      }
      if (nameParts[nameParts.length - 1].equals("fail")) {
        result = new ErrorInfo("builtins.ZeroDivisionError", "division by zero", "python",
            "Traceback ...");
      } else if (nameParts[nameParts.length - 1].equals("dead")) {
        result = new ErrorInfo("plait.exceptions.ActorDiedError", "the actor was killed",
            "python", "");
      } else {
        long sum = 0;
        for (byte[] a : args) {
          sum += (Long) ObjectDecoder.decode(a);
        }
        result = sum;
      }
      return ObjectEncoder.encodeToBytes(List.of(store(ObjectEncoder.encodeToBytes(result))));
    }

    @Override
    public byte[] createActor(String language, String[] nameParts, byte[][] args,
                              String[] kwargNames, byte[] encodedOptions) {
      calls.add("actor " + language + ":" + String.join(".", nameParts) + " "
          + ObjectDecoder.decode(encodedOptions)
          + (kwargNames.length > 0 ? " kwargs " + String.join(",", kwargNames) : ""));
      Map<Object, Object> state = new HashMap<>();
      state.put("actor_id", new byte[] {1});
      state.put("class_name", nameParts[nameParts.length - 1]);
      state.put("language", language);
      return ObjectEncoder.encodeToBytes(BaseActorHandle.fromState(state));
    }

    @Override
    public byte[] callActor(byte[] encodedHandle, String method, byte[][] args,
                            String[] kwargNames, int numReturns) {
      BaseActorHandle h = (BaseActorHandle) ObjectDecoder.decode(encodedHandle);
      calls.add("call " + h.className() + "." + method
          + (kwargNames.length > 0 ? " kwargs " + String.join(",", kwargNames) : ""));
      return ObjectEncoder.encodeToBytes(List.of(store(ObjectEncoder.encodeToBytes(41L + args.length))));
    }

    @Override
    public byte[] getActor(String name, String namespace) {
      return null;
    }

    @Override
    public void killActor(byte[] encodedHandle) {
      calls.add("kill");
    }

    /** The hex ids of the refs given back, one entry per hold, in order. */
    final List<String> released = java.util.Collections.synchronizedList(new ArrayList<>());

    @Override
    public void release(byte[] encodedRefs) {
      for (Object r : (List<?>) ObjectDecoder.decode(encodedRefs)) {
        released.add(((ObjectRef<?>) r).hex());
      }
    }
  }

  final FakeBridge bridge = new FakeBridge();

  @AfterEach
  void uninstall() {
    HostRuntime.install(null);
  }

  @Test
  void withoutARuntimeInitSaysHowToGetOne() {
    PlaitException e = assertThrows(PlaitException.class, Plait::init);
    assertTrue(e.getMessage().contains("plait java"), e.getMessage());
  }

  @Test
  void tasksOfEveryLanguageReturnTypedRefs() {
    HostRuntime.install(bridge);
    Plait.init();
    ObjectRef<Long> r = Plait.task(PyFunction.of("mod", "add", Long.class), 1, 2L)
        .setResource("CPU", 2).remote();
    assertEquals(3L, Plait.get(r));
    ObjectRef<Integer> i = Plait.task(CppFunction.of("add", Integer.class), 1, 2).remote();
    assertEquals(3, Plait.get(i, 1000));
    Plait.get(Plait.task(JavaFunction.of("java.lang.Math", "addExact"), 1, 2).remote());
    assertEquals(List.of("python:mod.add {CPU=2.0}", "cpp:add {}",
        "java:java.lang.Math.addExact {}"), bridge.calls);
  }

  @Test
  void aFailedTaskThrowsCrossLanguageException() {
    HostRuntime.install(bridge);
    ObjectRef<Long> r = Plait.task(PyFunction.of("mod", "fail", Long.class)).remote();
    CrossLanguageException e = assertThrows(CrossLanguageException.class, () -> Plait.get(r));
    assertEquals("builtins.ZeroDivisionError", e.getTypeName());
    assertEquals("python", e.getLanguage());
    assertEquals("division by zero", e.getRemoteMessage());
    assertEquals("Traceback ...", e.getRemoteStack());
  }

  @Test
  void putAndGetConvertToTheRefType() {
    HostRuntime.install(bridge);
    ObjectRef<long[]> r = Plait.put(new long[] {1, 2});
    assertArrayEquals(new long[] {1, 2}, Plait.get(r));
    ObjectRef<String> s = Plait.put("x");
    PlaitException e = assertThrows(PlaitException.class, () -> Plait.get(s.as(Long.class)));
    assertTrue(e.getMessage().contains("cannot be read as Long"), e.getMessage());
  }

  @Test
  void actorsAndTheirMethods() {
    HostRuntime.install(bridge);
    PyActorHandle c = Plait.actor(PyActorClass.of("mod", "Counter"), 5).setName("c")
        .setMaxConcurrency(2).remote();
    assertEquals("Counter", c.className());
    assertEquals(42L, Plait.get(c.task(PyActorMethod.of("incr", Long.class), 1).remote()));
    JavaActorHandle list = Plait.actor(JavaActorClass.of("java.util.ArrayList")).remote();
    assertInstanceOf(JavaActorHandle.class, list);
    list.kill();
    assertEquals(List.of("actor python:mod.Counter {name=c, max_concurrency=2}",
        "call Counter.incr", "actor java:java.util.ArrayList {}", "kill"), bridge.calls);
    assertTrue(Plait.getActor("missing").isEmpty());
  }

  @Test
  void bridgeFailuresBecomePlaitExceptions() {
    HostRuntime.install(bridge);
    ObjectRef<Object> ghost = ObjectRef.untyped(new byte[20],
        new ObjectRef.Owner("n", "127.0.0.1", 1, new byte[16]));
    PlaitException e = assertThrows(PlaitException.class, () -> Plait.get(ghost, 10));
    assertInstanceOf(GetTimeoutException.class, e);  // passed through as the bridge threw it
    assertTrue(e.getMessage().contains("timed out"), e.getMessage());
  }

  @Test
  void keywordArgumentsFollowThePositionalOnes() {
    HostRuntime.install(bridge);
    ObjectRef<Long> r = Plait.task(PyFunction.of("mod", "add", Long.class), 1)
        .setKwarg("b", 2L).setKwarg("c", 3L).remote();
    assertEquals(6L, Plait.get(r));  // the fake sums every argument, keywords included
    JavaActorHandle c = Plait.actor(JavaActorClass.of("Counter")).setKwarg("start", 1L)
        .remote();
    c.task(JavaActorMethod.of("add")).setKwarg("k", 1L).remote();
    assertEquals(List.of("python:mod.add {}", "kwargs b,c",
        "actor java:Counter {} kwargs start", "call Counter.add kwargs k"), bridge.calls);
    assertThrows(IllegalArgumentException.class,
        () -> Plait.task(PyFunction.of("mod", "add"), 1).setKwarg("", 2L));
  }

  @Test
  void aCallOfADeadActorThrowsActorDiedException() {
    HostRuntime.install(bridge);
    ObjectRef<Long> r = Plait.task(PyFunction.of("mod", "dead", Long.class)).remote();
    ActorDiedException e = assertThrows(ActorDiedException.class, () -> Plait.get(r));
    assertEquals("plait.exceptions.ActorDiedError", e.getTypeName());
    assertTrue(e.getErrorInfo().isActorDied());
    assertTrue(!new ErrorInfo("builtins.ValueError", "x", "python", "").isActorDied());
  }
}
