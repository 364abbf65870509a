package io.plait.examples;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Plain Java methods that plait can call as tasks: no annotation, no plait types. From
 * Python: {@code plait.java_function("io.plait.examples.Stats", "mean").remote(np.array(...))}.
 */
public final class Stats {
  private Stats() {}

  /** Thrown for input a method cannot use; reaches a Python caller as CrossLanguageError. */
  public static final class InvalidInputException extends RuntimeException {
    public InvalidInputException(String message) {
      super(message);
    }
  }

  /** The mean of a float64 tensor (a numpy array arrives as double[]). */
  public static double mean(double[] values) {
    if (values.length == 0) {
      throw new InvalidInputException("mean of an empty array");
    }
    double sum = 0;
    for (double v : values) {
      sum += v;
    }
    return sum / values.length;
  }

  /** Running totals of an int64 tensor, returned as a tensor (long[]). */
  public static long[] cumsum(long[] values) {
    long[] out = new long[values.length];
    long total = 0;
    for (int i = 0; i < values.length; i++) {
      total += values[i];
      out[i] = total;
    }
    return out;
  }

  /** Each value scaled: double[] in, double[] out. */
  public static double[] scale(double[] values, double factor) {
    double[] out = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i] * factor;
    }
    return out;
  }

  /** Rows (a list of dicts from Python) with a "total" column added: a * b. */
  public static List<Map<String, Object>> withTotals(List<Map<String, Object>> rows) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Map<String, Object> row : rows) {
      Map<String, Object> copy = new LinkedHashMap<>(row);
      long a = ((Number) row.get("a")).longValue();
      long b = ((Number) row.get("b")).longValue();
      copy.put("total", a * b);
      out.add(copy);
    }
    return out;
  }

  /** Checks a value, failing through a chain of two exceptions (cause shown in the stack). */
  public static long checked(long value) {
    if (value < 0) {
      throw new InvalidInputException("negative value " + value);
    }
    return value;
  }
}
