package io.plait.bench;

/** The trivial Java actor of bench/crosslang.py (plait and Ray). */
public class EchoActor {
  public EchoActor() {}

  public long echo(long x) {
    return x;
  }
}
