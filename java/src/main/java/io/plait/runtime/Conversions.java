package io.plait.runtime;

import io.plait.Tensor;
import java.lang.reflect.Array;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decoded values to the Java types a method declares, with a cost per conversion so that
 * overloads can be ranked (lower is better, {@link #NO} = impossible).
 *
 * <pre>
 * decoded value   parameter type (cost)
 * Long            long/Long 0, int/Integer 1, short/Short 2, byte/Byte 3 (each only if the
 *                 value fits), BigInteger 4, double/Double 6, float/Float 7, Number 8
 * BigInteger      BigInteger 0, double/Double 6, float/Float 7, Number 8
 * Double          double/Double 0, float/Float 1, Number 8
 * Boolean         boolean/Boolean 0
 * String          String 0, CharSequence 1, char/Character 2 (length 1), an enum 3 (a
 *                 constant's name)
 * byte[]          byte[] 0, ByteBuffer 2 (read-only wrap)
 * List            List 0, ArrayList/Collection/Iterable 1, Set 3 (LinkedHashSet), any
 *                 array T[] or primitive array 3 + the worst element's cost
 * Map             Map 0, LinkedHashMap/HashMap 1
 * Tensor          Tensor 0, the primitive array of its dtype 1 (copy, flattened),
 *                 ByteBuffer 2 (the view), a wider primitive array 4-5 (copy)
 * null            String 4, other references 5, arrays 6, primitives impossible
 * anything        a type it is an instance of 10; Object 20
 * </pre>
 * Generic element types are not checked (erasure): a List argument is passed as it is.
 */
public final class Conversions {
  public static final int NO = -1;

  private Conversions() {}

  static Class<?> box(Class<?> t) {
    if (!t.isPrimitive()) {
      return t;
    }
    if (t == long.class) return Long.class;
    if (t == int.class) return Integer.class;
    if (t == short.class) return Short.class;
    if (t == byte.class) return Byte.class;
    if (t == double.class) return Double.class;
    if (t == float.class) return Float.class;
    if (t == boolean.class) return Boolean.class;
    if (t == char.class) return Character.class;
    return Void.class;
  }

  /** The cost of passing {@code v} where {@code target} is declared, or {@link #NO}. */
  public static int cost(Object v, Class<?> target) {
    if (target == Object.class) {
      return 20;
    }
    if (v == null) {
      if (target.isPrimitive()) {
        return NO;
      }
      return target == String.class ? 4 : target.isArray() ? 6 : 5;
    }
    Class<?> t = box(target);
    int c = specificCost(v, t, target);
    if (c != NO) {
      return c;
    }
    return !target.isPrimitive() && t.isInstance(v) ? 10 : NO;
  }

  private static int specificCost(Object v, Class<?> t, Class<?> declared) {
    if (v instanceof Long) {
      long x = (Long) v;
      if (t == Long.class) return 0;
      if (t == Integer.class) return x == (int) x ? 1 : NO;
      if (t == Short.class) return x == (short) x ? 2 : NO;
      if (t == Byte.class) return x == (byte) x ? 3 : NO;
      if (t == BigInteger.class) return 4;
      if (t == Double.class) return 6;
      if (t == Float.class) return 7;
      if (t == Number.class) return 8;
      return NO;
    }
    if (v instanceof BigInteger) {
      if (t == BigInteger.class) return 0;
      if (t == Double.class) return 6;
      if (t == Float.class) return 7;
      if (t == Number.class) return 8;
      return NO;
    }
    if (v instanceof Double) {
      if (t == Double.class) return 0;
      if (t == Float.class) return 1;
      if (t == Number.class) return 8;
      return NO;
    }
    if (v instanceof Boolean) {
      return t == Boolean.class ? 0 : NO;
    }
    if (v instanceof String) {
      String s = (String) v;
      if (t == String.class) return 0;
      if (t == CharSequence.class) return 1;
      if (t == Character.class) return s.length() == 1 ? 2 : NO;
      if (t.isEnum()) return enumConstant(t, s) != null ? 3 : NO;
      return NO;
    }
    if (v instanceof byte[]) {
      if (t == byte[].class) return 0;
      if (t == ByteBuffer.class) return 2;
      return NO;
    }
    if (v instanceof List) {
      if (t == List.class) return 0;
      if (t.isInstance(v)) return 1;
      if (t.isAssignableFrom(LinkedHashSet.class)) return 3;
      if (t.isArray()) {
        int worst = 0;
        for (Object item : (List<?>) v) {
          int c = cost(item, t.getComponentType());
          if (c == NO) {
            return NO;
          }
          worst = Math.max(worst, c);
        }
        return 3 + worst;
      }
      return NO;
    }
    if (v instanceof Map) {
      if (t == Map.class) return 0;
      return t.isInstance(v) ? 1 : NO;
    }
    if (v instanceof Tensor) {
      return tensorCost(((Tensor) v).dtype(), t);
    }
    if (t.isInstance(v)) {
      return v.getClass() == t ? 0 : 1;
    }
    return NO;
  }

  private static int tensorCost(String dtype, Class<?> t) {
    if (t == Tensor.class) return 0;
    if (t == ByteBuffer.class) return 2;
    boolean narrowInt = List.of("int8", "int16", "int32", "uint8", "uint16", "uint32", "bool")
        .contains(dtype);
    if (t == long[].class) return dtype.equals("int64") || dtype.equals("uint64") ? 1 : narrowInt ? 4 : NO;
    if (t == int[].class) return dtype.equals("int32") ? 1 : List.of("int8", "int16", "uint8", "uint16", "bool").contains(dtype) ? 4 : NO;
    if (t == short[].class) return dtype.equals("int16") ? 1 : List.of("int8", "uint8", "bool").contains(dtype) ? 4 : NO;
    if (t == byte[].class) return dtype.equals("int8") || dtype.equals("uint8") ? 1 : dtype.equals("bool") ? 4 : NO;
    if (t == double[].class) return dtype.equals("float64") ? 1 : dtype.equals("float32") ? 4 : narrowInt || dtype.equals("int64") ? 5 : NO;
    if (t == float[].class) return dtype.equals("float32") ? 1 : NO;
    if (t == boolean[].class) return dtype.equals("bool") ? 1 : NO;
    return NO;
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Object enumConstant(Class<?> t, String name) {
    for (Object c : t.getEnumConstants()) {
      if (((Enum) c).name().equals(name)) {
        return c;
      }
    }
    return null;
  }

  /** {@code v} as {@code target}; call only when {@code cost(v, target) != NO}. */
  public static Object convert(Object v, Class<?> target) {
    if (v == null || target == Object.class) {
      return v;
    }
    Class<?> t = box(target);
    if (v instanceof Long || v instanceof BigInteger || v instanceof Double) {
      Number n = (Number) v;
      if (t == Long.class) return n.longValue();
      if (t == Integer.class) return n.intValue();
      if (t == Short.class) return n.shortValue();
      if (t == Byte.class) return n.byteValue();
      if (t == Double.class) return n.doubleValue();
      if (t == Float.class) return n.floatValue();
      if (t == BigInteger.class) return v instanceof BigInteger ? v : BigInteger.valueOf(n.longValue());
      return v;
    }
    if (v instanceof String) {
      if (t == Character.class) return ((String) v).charAt(0);
      if (t.isEnum()) return enumConstant(t, (String) v);
      return v;
    }
    if (v instanceof byte[] && t == ByteBuffer.class) {
      return ByteBuffer.wrap((byte[]) v).asReadOnlyBuffer();
    }
    if (v instanceof List && !t.isInstance(v)) {
      List<?> list = (List<?>) v;
      if (t.isArray()) {
        Class<?> component = t.getComponentType();
        Object out = Array.newInstance(component, list.size());
        for (int i = 0; i < list.size(); i++) {
          Array.set(out, i, convert(list.get(i), component));
        }
        return out;
      }
      return new LinkedHashSet<>(list);
    }
    if (v instanceof Tensor && t != Tensor.class) {
      Tensor tensor = (Tensor) v;
      if (t == ByteBuffer.class) return tensor.data();
      if (t == long[].class) return tensor.toLongArray();
      if (t == int[].class) return tensor.toIntArray();
      if (t == short[].class) return tensor.toShortArray();
      if (t == byte[].class) return tensor.toByteArray();
      if (t == double[].class) return tensor.toDoubleArray();
      if (t == float[].class) return tensor.toFloatArray();
      if (t == boolean[].class) return tensor.toBooleanArray();
    }
    return v;
  }

  /** A short name for a decoded value's type, for messages: Long, String, List, null… */
  public static String describe(Object v) {
    if (v == null) return "null";
    if (v instanceof List) return "List";
    if (v instanceof Map) return "Map";
    if (v instanceof Set) return "Set";
    if (v instanceof Collection) return "Collection";
    if (v instanceof Tensor) return "Tensor(" + ((Tensor) v).dtype() + ")";
    return v.getClass().getSimpleName();
  }

  static List<String> describeAll(List<Object> values) {
    List<String> out = new ArrayList<>();
    for (Object v : values) {
      out.add(describe(v));
    }
    return out;
  }
}
