package io.plait.examples;

/** An ordinary class that plait can host as an actor: {@code
 * plait.java_actor_class("io.plait.examples.Counter").remote(10)}. */
public class Counter {
  private long value;

  public Counter() {
    this(0);
  }

  public Counter(long start) {
    value = start;
  }

  public long increment() {
    return ++value;
  }

  public long add(long delta) {
    value += delta;
    return value;
  }

  public long get() {
    return value;
  }

  /** Keyword arguments bind by name because this file is compiled with javac -parameters. */
  public String label(String prefix, String suffix) {
    return prefix + value + suffix;
  }
}
