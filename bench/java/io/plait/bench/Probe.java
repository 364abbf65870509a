package io.plait.bench;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * Where an Arrow table passed from Python lives in this (Java worker) process: bench/crosslang.py
 * calls {@link #probe} as a task (timing) and {@link #mem} then {@link #check} on one actor
 * (RSS before and after, in one process).
 */
public class Probe {
  public Probe() {}

  /** {RssAnon kB, RssShmem kB, pid}. */
  public static List<Long> memStats() {
    long anon = -1;
    long shmem = -1;
    try {
      for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
        String[] f = line.trim().split("\\s+");
        if (f[0].equals("RssAnon:")) {
          anon = Long.parseLong(f[1]);
        } else if (f[0].equals("RssShmem:")) {
          shmem = Long.parseLong(f[1]);
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read /proc/self/status: " + e);
    }
    return Arrays.asList(anon, shmem, ProcessHandle.current().pid());
  }

  /** The path of the mapping of /proc/self/maps holding addr ("" anonymous, "?" none). */
  static String mappingOf(long addr) {
    try {
      for (String line : Files.readAllLines(Paths.get("/proc/self/maps"))) {
        String[] f = line.trim().split("\\s+", 6);
        String[] range = f[0].split("-");
        long lo = Long.parseUnsignedLong(range[0], 16);
        long hi = Long.parseUnsignedLong(range[1], 16);
        if (Long.compareUnsigned(addr, lo) >= 0 && Long.compareUnsigned(addr, hi) < 0) {
          return f.length > 5 ? f[5].trim() : "";
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read /proc/self/maps: " + e);
    }
    return "?";
  }

  /**
   * Sums every float64 column (touching every byte), then reports [sum, mapping of column 0's
   * values, RssAnon kB, RssShmem kB, pid, nanoseconds of the sum]. Closes the table: a
   * decoded table holds its argument's memory until closed.
   */
  public static List<Object> probe(VectorSchemaRoot table) {
    try (VectorSchemaRoot t = table) {
      long start = System.nanoTime();
      double sum = 0;
      for (FieldVector v : t.getFieldVectors()) {
        if (!(v instanceof Float8Vector)) {
          throw new IllegalArgumentException("probe wants float64 columns, got " + v.getField());
        }
        // A DoubleBuffer over the vector's memory: ArrowBuf.getDouble checks bounds on
        // every call, which would make the sum ~5x slower than C++'s.
        int n = v.getValueCount();
        DoubleBuffer data = v.getDataBuffer().nioBuffer(0, n * Float8Vector.TYPE_WIDTH)
            .order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();
        for (int i = 0; i < n; i++) {
          sum += data.get(i);
        }
      }
      long took = System.nanoTime() - start;
      long address = t.getVector(0).getDataBufferAddress();
      List<Long> mem = memStats();
      return Arrays.asList(sum, mappingOf(address), mem.get(0), mem.get(1), mem.get(2), took);
    }
  }

  public List<Long> mem() {
    return memStats();
  }

  public List<Object> check(VectorSchemaRoot table) {
    return probe(table);
  }
}
