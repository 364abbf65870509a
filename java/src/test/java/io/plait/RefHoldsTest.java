package io.plait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.plait.runtime.HostRuntime;
import io.plait.runtime.ObjectDecoder;
import io.plait.runtime.ObjectEncoder;
import io.plait.runtime.TaskExecutor;
import io.plait.runtime.TaskFailure;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The host's holds on refs Java received go back (RuntimeBridge.release) once the GC has
 * collected every copy of the ref, one release per hold, and never while one is reachable. */
class RefHoldsTest {
  final PlaitApiTest.FakeBridge bridge = new PlaitApiTest.FakeBridge();
  /** Keeps refs reachable from the heap (a local might die early under the JIT). */
  final List<Object> kept = new ArrayList<>();

  @AfterEach
  void uninstall() {
    HostRuntime.install(null);
  }

  /** Runs the GC and gives the collected holds back until {@code done} (10 s at most). */
  static void collectUntil(String what, BooleanSupplier done) {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("timed out waiting for " + what);
      }
      System.gc();
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      HostRuntime.flushReleases();
    }
  }

  /** A few GC rounds, giving back whatever they collected. */
  static void collectSome() {
    for (int i = 0; i < 5; i++) {
      System.gc();
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      HostRuntime.flushReleases();
    }
  }

  static Map<String, Integer> counts(List<String> hexes) {
    Map<String, Integer> out = new HashMap<>();
    synchronized (hexes) {
      for (String h : hexes) {
        out.merge(h, 1, Integer::sum);
      }
    }
    return out;
  }

  @Test
  void aRefAndItsCopiesShareOneHoldGivenBackWhenAllAreCollected() {
    HostRuntime.install(bridge);
    ObjectRef<String> r = Plait.put("x");
    String hex = r.hex();
    kept.add(r.as(Object.class));  // the copy alone keeps the hold
    r = null;
    collectSome();
    assertEquals(List.of(), bridge.released);
    assertEquals(1, HostRuntime.installedHolds().live());

    kept.clear();
    collectUntil("the release", () -> !bridge.released.isEmpty());
    collectSome();
    assertEquals(List.of(hex), bridge.released);  // once, not per copy
    assertEquals(0, HostRuntime.installedHolds().live());
  }

  @Test
  void everyRefTheHostHandedOutIsReleasedOncePerHold() {
    HostRuntime.install(bridge);
    ObjectRef<Long> a = Plait.put(1L);
    ObjectRef<Long> b = Plait.put(2L);
    ObjectRef<Object> l = Plait.put(List.of(a, a, b)).as(Object.class);
    String ha = a.hex();
    String hb = b.hex();
    String hl = l.hex();
    // The get's value holds three refs: the host holds each occurrence, so does Java.
    List<?> got = (List<?>) Plait.get(l);
    assertEquals(3, got.size());
    ObjectRef<Long> t = Plait.task(PyFunction.of("mod", "add", Long.class), 1L, 2L).remote();
    String ht = t.hex();
    assertEquals(3L, Plait.get(t));
    assertEquals(List.of(), bridge.released);
    assertEquals(7, HostRuntime.installedHolds().live());

    a = null;
    b = null;
    l = null;
    got = null;
    t = null;
    collectUntil("every release", () -> bridge.released.size() >= 7);
    collectSome();
    assertEquals(Map.of(ha, 3, hb, 2, hl, 1, ht, 1), counts(bridge.released));
  }

  @Test
  void refsDecodedOutsideTheRuntimeCarryNoHold() {
    HostRuntime.install(bridge);
    byte[] encoded = ObjectEncoder.encodeToBytes(ObjectRef.untyped(new byte[20],
        new ObjectRef.Owner("n", "127.0.0.1", 1, new byte[16])));
    kept.add(new ObjectRef<>(new byte[20], new ObjectRef.Owner("n", "h", 1, new byte[16]),
        Object.class));
    assertTrue(ObjectDecoder.decode(encoded) instanceof ObjectRef);
    kept.clear();
    collectSome();
    assertEquals(List.of(), bridge.released);
    assertEquals(0, HostRuntime.installedHolds().live());
  }

  @Test
  void holdsOfAReplacedRuntimeAreNotGivenToTheNext() {
    HostRuntime.install(bridge);
    kept.add(Plait.put("old"));
    PlaitApiTest.FakeBridge next = new PlaitApiTest.FakeBridge();
    HostRuntime.install(next);
    kept.clear();
    collectSome();
    assertEquals(List.of(), next.released);
  }

  @Test
  void refsInATasksArgumentsAreReleasedAfterItLetsThemGo() {
    HostRuntime.install(bridge);
    TaskExecutor ex = new TaskExecutor();
    ObjectRef<Object> a = ObjectRef.untyped(new byte[] {7},
        new ObjectRef.Owner("n", "127.0.0.1", 1, new byte[16]));
    byte[] arg = ObjectEncoder.encodeToBytes(List.of(a, a));
    // The task returns its argument: the result encodes both refs; after the call nothing
    // in Java holds them.
    Object out = ex.pyCallFunction("java.util.Objects", "requireNonNull",
        new byte[][] {arg}, null, null, 1, null);
    assertEquals(List.of(a, a), ObjectDecoder.decode((byte[]) out));
    // A call that fails before decoding its arguments gives their holds back too.
    try {
      ex.pyCallFunction("no.such.Class", "f", new byte[][] {arg}, null, null, 1, null);
      fail("expected a TaskFailure");
    } catch (TaskFailure expected) {
      // its refs were decoded only to find the holds
    }
    collectUntil("the arguments' releases", () -> bridge.released.size() >= 4);
    collectSome();
    assertEquals(Collections.nCopies(4, a.hex()), bridge.released);
  }
}
