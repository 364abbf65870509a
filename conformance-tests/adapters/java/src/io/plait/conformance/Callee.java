package io.plait.conformance;

import io.plait.BaseActorHandle;
import io.plait.CppActorMethod;
import io.plait.JavaActorMethod;
import io.plait.ObjectRef;
import io.plait.Plait;
import io.plait.PyActorMethod;
import io.plait.Tensor;
import io.plait.runtime.Conversions;
import io.plait.runtime.ObjectDecoder;
import io.plait.runtime.ObjectEncoder;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.vector.BaseIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.FloatingPointVector;
import org.apache.arrow.vector.VectorSchemaRoot;

/**
 * The Java callee of the conformance suite (docs/conformance.md, "Callee"): the functions
 * every language's adapter offers under the same names, as public static methods that a
 * Java worker runs by name. Compiled with {@code javac -parameters}, so keyword arguments
 * bind by parameter name.
 */
public final class Callee {
  static final long GET_TIMEOUT_MS = 60_000;

  private Callee() {}

  public static Map<String, Object> capabilities() {
    Map<String, Object> caps = new LinkedHashMap<>();
    caps.put("language", "java");
    caps.put("kwargs", true);  // bound by parameter name (this class keeps them)
    caps.put("python_only_values", false);  // the codec refuses Python pickles
    caps.put("uint64", true);  // above 2^63-1 the codec decodes to BigInteger
    caps.put("tuples", false);  // a Tuple ext is read as a List, written as an array
    caps.put("error_type", "java.lang.IllegalStateException");
    return caps;
  }

  public static Object echo(Object x) {
    return x;
  }

  /** Typed: anything but two int64 arguments is refused by the binding. */
  public static long add(long a, long b) {
    return Math.addExact(a, b);
  }

  public static String concat(String a, String b) {
    return requireStr(a, "a") + requireStr(b, "b");
  }

  public static Object fail(String message) {
    throw new IllegalStateException(message);
  }

  public static long sleep_ms(long ms) throws InterruptedException {
    Thread.sleep(ms);
    return ms;
  }

  public static long sum_list(List<?> xs) {
    long total = 0;
    for (int i = 0; i < xs.size(); i++) {
      Object x = xs.get(i);
      if (!(x instanceof Long)) {
        throw new IllegalArgumentException("xs[" + i + "] must be an int64, got "
            + Conversions.describe(x));
      }
      total = Math.addExact(total, (Long) x);
    }
    return total;
  }

  /** {@code xs[0]} is an ObjectRef (nested in a list, so the runtime passed it as it is). */
  public static Object get_first(List<?> xs) {
    if (xs.isEmpty() || !(xs.get(0) instanceof ObjectRef)) {
      throw new IllegalArgumentException("xs[0] must be an ObjectRef, got "
          + (xs.isEmpty() ? "an empty list" : Conversions.describe(xs.get(0))));
    }
    return Plait.get((ObjectRef<?>) xs.get(0), GET_TIMEOUT_MS);
  }

  public static ObjectRef<Object> put_value(Object x) {
    return Plait.put(x).as(Object.class);
  }

  /** Calls {@code handle.add(k)} on an actor of any language. */
  public static long call_actor_add(BaseActorHandle handle, long k) {
    ObjectRef<Long> r;
    switch (handle.language()) {
      case "python":
        r = handle.task(PyActorMethod.of("add", Long.class), k).remote();
        break;
      case "cpp":
        r = handle.task(CppActorMethod.of("add", Long.class), k).remote();
        break;
      default:
        r = handle.task(JavaActorMethod.of("add", Long.class), k).remote();
        break;
    }
    return Plait.get(r, GET_TIMEOUT_MS);
  }

  /** The sum of a numeric column, read in place from the Arrow buffers (nulls skipped). */
  public static double table_sum(VectorSchemaRoot table, String column) {
    FieldVector v = table.getVector(requireStr(column, "column"));
    if (v == null) {
      throw new IllegalArgumentException("the table has no column '" + column + "' (columns: "
          + table.getSchema().getFields() + ")");
    }
    double total = 0;
    int n = v.getValueCount();
    if (v instanceof BaseIntVector) {
      BaseIntVector ints = (BaseIntVector) v;
      for (int i = 0; i < n; i++) {
        if (!v.isNull(i)) {
          total += ints.getValueAsLong(i);
        }
      }
    } else if (v instanceof FloatingPointVector) {
      FloatingPointVector floats = (FloatingPointVector) v;
      for (int i = 0; i < n; i++) {
        if (!v.isNull(i)) {
          total += floats.getValueAsDouble(i);
        }
      }
    } else {
      throw new IllegalArgumentException("column '" + column + "' is not numeric: "
          + v.getField().getType());
    }
    return total;
  }

  /** The sum of a float64 or int64 tensor, read in place (no copy). */
  public static double tensor_sum(Tensor t) {
    ByteBuffer data = t.data();
    long n = t.size();
    double total = 0;
    switch (t.dtype()) {
      case "float64":
        for (int i = 0; i < n; i++) {
          total += data.getDouble(i * 8);
        }
        return total;
      case "int64":
        long sum = 0;
        for (int i = 0; i < n; i++) {
          sum = Math.addExact(sum, data.getLong(i * 8));
        }
        return sum;
      default:
        throw new IllegalArgumentException("t must be a float64 or int64 tensor, got "
            + t.dtype());
    }
  }

  /**
   * Decodes {@code b} with this codec and encodes the value again (the golden vectors'
   * check); a refusal (a Python-only value) or rejection (a malformed object) throws the
   * codec's CodecException, whose message says why.
   */
  public static byte[] codec_roundtrip(byte[] b) {
    return ObjectEncoder.encodeToBytes(ObjectDecoder.decode(b));
  }

  private static String requireStr(String s, String what) {
    if (s == null) {
      throw new IllegalArgumentException(what + " must be a str, got nil");
    }
    return s;
  }
}
