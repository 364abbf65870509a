package io.plait.bench;

/**
 * The trivial Java task of bench/crosslang.py: {@code plait.java_function("io.plait.bench.Echo",
 * "echo")}. No plait or Arrow types in its signatures, so Ray's Java worker can load it too
 * (Ray's row "Python→Java" calls the same method).
 */
public final class Echo {
  private Echo() {}

  public static long echo(long x) {
    return x;
  }
}
