package io.plait.bench;

import io.plait.ObjectRef;
import io.plait.Plait;
import io.plait.PyActorClass;
import io.plait.PyActorHandle;
import io.plait.PyActorMethod;
import io.plait.PyFunction;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The Java→Python rows of bench/crosslang.py: run as a plait driver,
 *
 * <pre>plait java -cp crosslang-bench.jar:bench/pyfns io.plait.bench.CrossLangBench BATCH RUNS SYNC RUN_MS</pre>
 *
 * it calls crosslang_pyfns.echo (a task) and crosslang_pyfns.Echo.echo (an actor method) in
 * the same ways as the Python rows (RUNS runs of whole batches of BATCH calls, each then got
 * all, for at least RUN_MS ms; SYNC calls one at a time) and prints one line
 * "CROSSLANG_JSON {...}" with the results.
 */
public final class CrossLangBench {
  private CrossLangBench() {}

  interface Call {
    ObjectRef<Long> submit(long x);
  }

  /**
   * Calls per second of RUNS runs, each of whole batches (submit BATCH calls, then get them
   * all) until at least runMs milliseconds have passed.
   */
  static double[] async(Call call, int batch, int runs, long runMs) {
    double[] rates = new double[runs];
    for (int r = 0; r < runs; r++) {
      long calls = 0;
      long t0 = System.nanoTime();
      long took;
      do {
        List<ObjectRef<Long>> refs = new ArrayList<>(batch);
        for (int i = 0; i < batch; i++) {
          refs.add(call.submit(i));
        }
        List<Long> got = Plait.get(refs);
        if (got.get(batch - 1) != batch - 1) {
          throw new IllegalStateException("echo returned " + got.get(batch - 1));
        }
        calls += batch;
        took = System.nanoTime() - t0;
      } while (took < runMs * 1_000_000L);
      rates[r] = calls / (took / 1e9);
    }
    return rates;
  }

  /** Round-trip times in microseconds of SYNC calls made one at a time. */
  static double[] sync(Call call, int calls) {
    double[] us = new double[calls];
    for (int i = 0; i < calls; i++) {
      long t0 = System.nanoTime();
      long got = Plait.get(call.submit(i));
      us[i] = (System.nanoTime() - t0) / 1e3;
      if (got != i) {
        throw new IllegalStateException("echo returned " + got);
      }
    }
    return us;
  }

  static String json(double[] xs) {
    StringBuilder b = new StringBuilder("[");
    for (int i = 0; i < xs.length; i++) {
      b.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.3f", xs[i]));
    }
    return b.append("]").toString();
  }

  public static void main(String[] args) {
    int batch = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    int syncCalls = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
    long runMs = args.length > 3 ? Long.parseLong(args[3]) : 500;
    Plait.init();
    PyFunction<Long> echo = PyFunction.of("crosslang_pyfns", "echo", Long.class);
    PyActorHandle actor = Plait.actor(PyActorClass.of("crosslang_pyfns", "Echo")).remote();
    PyActorMethod<Long> method = PyActorMethod.of("echo", Long.class);
    Call task = x -> Plait.task(echo, x).remote();
    Call actorCall = x -> actor.task(method, x).remote();

    // Warm-up: the workers (one per CPU for tasks) and the actor start here, not in a row.
    long w0 = System.nanoTime();
    async(task, batch, 1, 0);
    sync(actorCall, 20);
    double warmS = (System.nanoTime() - w0) / 1e9;

    // Each row also reports its start and end (ms since the epoch), so that the script can
    // tell how busy the rest of the machine was during that row.
    List<String> rows = new ArrayList<>();
    long t0 = System.nanoTime();
    long s = System.currentTimeMillis();
    rows.add("\"task_async\":" + json(async(task, batch, runs, runMs)));
    rows.add(String.format(Locale.ROOT, "\"task_async_t\":[%d,%d]", s, s = System.currentTimeMillis()));
    rows.add("\"task_sync_us\":" + json(sync(task, syncCalls)));
    rows.add(String.format(Locale.ROOT, "\"task_sync_t\":[%d,%d]", s, s = System.currentTimeMillis()));
    sync(actorCall, 20);  // warm again after the task rows (a different worker)
    s = System.currentTimeMillis();
    rows.add("\"actor_async\":" + json(async(actorCall, batch, runs, runMs)));
    rows.add(String.format(Locale.ROOT, "\"actor_async_t\":[%d,%d]", s, s = System.currentTimeMillis()));
    rows.add("\"actor_sync_us\":" + json(sync(actorCall, syncCalls)));
    rows.add(String.format(Locale.ROOT, "\"actor_sync_t\":[%d,%d]", s, s = System.currentTimeMillis()));
    double rowsS = (System.nanoTime() - t0) / 1e9;
    System.out.println("CROSSLANG_JSON {" + String.join(",", rows)
        + String.format(Locale.ROOT, ",\"warmup_s\":%.3f,\"rows_s\":%.3f", warmS, rowsS)
        + ",\"java\":\"" + System.getProperty("java.version") + "\"}");
    System.out.flush();
  }
}
