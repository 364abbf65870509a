package io.plait.conformance;

/** The conformance suite's actor class (docs/conformance.md, "Callee"): a running total. */
public class Counter {
  private long total;

  public Counter(long start) {
    this.total = start;
  }

  /** Adds {@code k}; returns the new total (an overflow of int64 is an error). */
  public long add(long k) {
    total = Math.addExact(total, k);
    return total;
  }

  public long get() {
    return total;
  }

  public Object echo(Object x) {
    return x;
  }

  /** Throws; the actor stays alive. */
  public Object fail(String message) {
    throw new IllegalStateException(message);
  }
}
