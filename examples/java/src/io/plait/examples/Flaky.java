package io.plait.examples;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A task whose first attempts fail, for plait's retry tests: {@code
 * plait.java_function("io.plait.examples.Flaky", "attempt").remote(dir, hang, raise)}.
 */
public final class Flaky {
  private Flaky() {}

  /**
   * Each attempt adds DIR/&lt;n&gt;.pid holding its worker's pid; attempt n &lt; hang sleeps
   * (the test kills its worker), one below hang + raise throws, and a later one returns n.
   */
  public static long attempt(String dir, long hang, long raise) throws Exception {
    long n = 0;
    while (Files.exists(Path.of(dir, n + ".pid"))) {
      n++;
    }
    Files.writeString(Path.of(dir, n + ".pid"), Long.toString(ProcessHandle.current().pid()));
    if (n < hang) {
      Thread.sleep(60_000);
    }
    if (n < hang + raise) {
      throw new IllegalStateException("attempt " + n);
    }
    return n;
  }
}
