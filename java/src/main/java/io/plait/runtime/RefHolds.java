package io.plait.runtime;

import io.plait.ObjectRef;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The host's holds on objects whose refs Java received (docs/cross-language.md, "Object
 * lifetime across the boundary"). The Python host (HostApi) keeps one hold for every ref it
 * hands to Java: the refs returned by put, submitTask and callActor, the refs inside values
 * read with get, and the refs inside a Java task's arguments. Each such ref, as decoded,
 * gets a token ({@link #adopt}) that it shares with its {@link ObjectRef#as} copies; a
 * {@link Cleaner} watches the token, and once the GC has collected every ref holding it,
 * the ref goes on a queue. Nothing is called from the Cleaner's thread: the queue is
 * handed to {@link RuntimeBridge#release} by {@link #flush}, which the runtime calls on
 * threads that call the host anyway (before each bridge call, around each task a Java
 * worker runs, and from the driver's host every second).
 *
 * <p>One per {@link HostRuntime}: refs held for an earlier runtime (a replaced bridge) are
 * never released to a later one.
 */
public final class RefHolds {
  private static final Cleaner CLEANER = Cleaner.create(r -> {
    Thread t = new Thread(r, "plait-ref-cleaner");
    t.setDaemon(true);
    return t;
  });

  private final ConcurrentLinkedQueue<ObjectRef<Object>> released =
      new ConcurrentLinkedQueue<>();
  private final AtomicLong live = new AtomicLong();

  /** What the Cleaner runs: it must not reach the token (nor any ref holding it). */
  private static final class Release implements Runnable {
    private final RefHolds holds;
    private final ObjectRef<Object> ref;

    Release(RefHolds holds, ObjectRef<Object> ref) {
      this.holds = holds;
      this.ref = ref;
    }

    @Override
    public void run() {
      holds.live.decrementAndGet();
      holds.released.add(ref);
    }
  }

  /** {@code ref} (which carries no hold) carrying one host hold, released when it and all
   * its copies are collected. */
  public ObjectRef<Object> adopt(ObjectRef<Object> ref) {
    Object token = new Object();
    live.incrementAndGet();
    CLEANER.register(token, new Release(this, ref));
    return ObjectRef.held(ref, token);
  }

  /** Holds whose refs Java can still reach (or that the GC has not collected yet). */
  public long live() {
    return live.get();
  }

  /** Holds collected and not yet given back to the host. */
  public int pending() {
    return released.size();
  }

  /**
   * Gives the collected holds back through {@code bridge} (one call for all of them). Best
   * effort: a failed call loses those releases (their objects then live as long as this
   * process), it never throws into the caller's own call.
   */
  public void flush(RuntimeBridge bridge) {
    if (released.isEmpty()) {
      return;
    }
    List<ObjectRef<Object>> refs = new ArrayList<>();
    for (ObjectRef<Object> r; (r = released.poll()) != null; ) {
      refs.add(r);
    }
    if (refs.isEmpty()) {
      return;
    }
    try {
      bridge.release(ObjectEncoder.encodeToBytes(refs));
    } catch (RuntimeException e) {
      // See above: the host cannot take them now; keeping the objects is the safe side.
    }
  }
}
