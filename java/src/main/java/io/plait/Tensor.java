package io.plait;

import io.plait.runtime.FormatConstants;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/**
 * An n-dimensional array of fixed-size numbers (the object format's Tensor ext): a dtype,
 * a shape and the elements in C order, little-endian.
 *
 * <p>A decoded tensor's {@link #data()} is a read-only view of the object's memory (for an
 * argument from the shared-memory store: the store itself), not a copy. The tensor keeps
 * that memory alive, and so does every {@code ByteBuffer} over it (the codec gives them the
 * memory's owner; on a JVM that does not open {@code java.nio} to plait only the tensor
 * does, so there keep the tensor, or copy: {@link #toLongArray()} and friends copy).
 */
public final class Tensor {
  /** dtype name to element size in bytes; the dtypes of docs/object-format.md. */
  public static final Map<String, Integer> ITEMSIZE = FormatConstants.DTYPE_ITEMSIZE;

  private final String dtype;
  private final long[] shape;
  private final ByteBuffer data;
  // Whatever owns the memory under `data` (a Python buffer); held, never used.
  @SuppressWarnings("unused")
  private final Object owner;

  /** A tensor over {@code data} (its remaining bytes, read little-endian). */
  public Tensor(String dtype, long[] shape, ByteBuffer data) {
    this(dtype, shape, data, null);
  }

  /** For the codec: {@code owner} keeps foreign memory under {@code data} alive. */
  public Tensor(String dtype, long[] shape, ByteBuffer data, Object owner) {
    Integer size = ITEMSIZE.get(Objects.requireNonNull(dtype, "dtype"));
    if (size == null) {
      throw new IllegalArgumentException("unknown tensor dtype '" + dtype + "' (expected one of "
          + new java.util.TreeSet<>(ITEMSIZE.keySet()) + ")");
    }
    this.dtype = dtype;
    this.shape = shape.clone();
    long n = size;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative tensor dimension " + d);
      }
      n = Math.multiplyExact(n, d);
    }
    if (data.remaining() != n) {
      throw new IllegalArgumentException("a " + dtype + " tensor of shape "
          + Arrays.toString(shape) + " needs " + n + " bytes, got " + data.remaining());
    }
    this.data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
    this.owner = owner;
  }

  public static Tensor of(long[] values) {
    ByteBuffer b = alloc(values.length * 8L);
    b.asLongBuffer().put(values);
    return new Tensor("int64", new long[] {values.length}, b);
  }

  public static Tensor of(int[] values) {
    ByteBuffer b = alloc(values.length * 4L);
    b.asIntBuffer().put(values);
    return new Tensor("int32", new long[] {values.length}, b);
  }

  public static Tensor of(short[] values) {
    ByteBuffer b = alloc(values.length * 2L);
    b.asShortBuffer().put(values);
    return new Tensor("int16", new long[] {values.length}, b);
  }

  public static Tensor of(double[] values) {
    ByteBuffer b = alloc(values.length * 8L);
    b.asDoubleBuffer().put(values);
    return new Tensor("float64", new long[] {values.length}, b);
  }

  public static Tensor of(float[] values) {
    ByteBuffer b = alloc(values.length * 4L);
    b.asFloatBuffer().put(values);
    return new Tensor("float32", new long[] {values.length}, b);
  }

  public static Tensor of(boolean[] values) {
    ByteBuffer b = alloc(values.length);
    for (boolean v : values) {
      b.put((byte) (v ? 1 : 0));
    }
    b.flip();
    return new Tensor("bool", new long[] {values.length}, b);
  }

  private static ByteBuffer alloc(long n) {
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("tensor of " + n + " bytes is too large for one array");
    }
    return ByteBuffer.allocate((int) n).order(ByteOrder.LITTLE_ENDIAN);
  }

  public String dtype() {
    return dtype;
  }

  public long[] shape() {
    return shape.clone();
  }

  /** Number of elements (the product of the shape; 1 for a 0-d tensor). */
  public long size() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  /** The elements' bytes: a little-endian, read-only view (no copy). */
  public ByteBuffer data() {
    return data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  private int elements() {
    long n = size();
    if (n > Integer.MAX_VALUE) {
      throw new IllegalStateException("tensor of " + n + " elements does not fit a Java array");
    }
    return (int) n;
  }

  private void need(String... dtypes) {
    if (!Arrays.asList(dtypes).contains(dtype)) {
      throw new IllegalStateException("a " + dtype + " tensor cannot be read as "
          + String.join("/", dtypes));
    }
  }

  /** The elements, flattened, as longs (copy); int8…int64 and uint8…uint32 widen. */
  public long[] toLongArray() {
    long[] out = new long[elements()];
    ByteBuffer b = data();
    switch (dtype) {
      case "int64": case "uint64": b.asLongBuffer().get(out); break;
      case "int32": for (int i = 0; i < out.length; i++) out[i] = b.getInt(i * 4); break;
      case "uint32": for (int i = 0; i < out.length; i++) out[i] = b.getInt(i * 4) & 0xffffffffL; break;
      case "int16": for (int i = 0; i < out.length; i++) out[i] = b.getShort(i * 2); break;
      case "uint16": for (int i = 0; i < out.length; i++) out[i] = b.getShort(i * 2) & 0xffff; break;
      case "int8": for (int i = 0; i < out.length; i++) out[i] = b.get(i); break;
      case "uint8": case "bool": for (int i = 0; i < out.length; i++) out[i] = b.get(i) & 0xff; break;
      default: need("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool");
    }
    Reference.reachabilityFence(this);  // the owner of data's memory, until copied
    return out;
  }

  /** int32 (or narrower) elements as ints (copy). */
  public int[] toIntArray() {
    need("int32", "int16", "int8", "uint16", "uint8", "bool");
    long[] wide = toLongArray();
    int[] out = new int[wide.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (int) wide[i];
    }
    return out;
  }

  /** int16 (or narrower) elements as shorts (copy). */
  public short[] toShortArray() {
    need("int16", "int8", "uint8", "bool");
    long[] wide = toLongArray();
    short[] out = new short[wide.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (short) wide[i];
    }
    return out;
  }

  /** int8/uint8/bool elements as bytes (copy). */
  public byte[] toByteArray() {
    need("int8", "uint8", "bool");
    byte[] out = new byte[elements()];
    data().get(out);
    Reference.reachabilityFence(this);  // the owner of data's memory, until copied
    return out;
  }

  /** float64 elements (copy); float32 and the integer dtypes widen. */
  public double[] toDoubleArray() {
    double[] out = new double[elements()];
    ByteBuffer b = data();
    switch (dtype) {
      case "float64": b.asDoubleBuffer().get(out); break;
      case "float32": for (int i = 0; i < out.length; i++) out[i] = b.getFloat(i * 4); break;
      case "uint64": case "float16": case "complex64": case "complex128":
        need("float64", "float32", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32");
        break;
      default:
        long[] wide = toLongArray();
        for (int i = 0; i < out.length; i++) out[i] = wide[i];
    }
    Reference.reachabilityFence(this);  // the owner of data's memory, until copied
    return out;
  }

  /** float32 elements (copy). */
  public float[] toFloatArray() {
    need("float32");
    float[] out = new float[elements()];
    data().asFloatBuffer().get(out);
    Reference.reachabilityFence(this);  // the owner of data's memory, until copied
    return out;
  }

  /** bool elements (copy). */
  public boolean[] toBooleanArray() {
    need("bool");
    boolean[] out = new boolean[elements()];
    ByteBuffer b = data();
    for (int i = 0; i < out.length; i++) {
      out[i] = b.get(i) != 0;
    }
    Reference.reachabilityFence(this);  // the owner of data's memory, until copied
    return out;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Tensor)) {
      return false;
    }
    Tensor t = (Tensor) o;
    boolean same = dtype.equals(t.dtype) && Arrays.equals(shape, t.shape) && data.equals(t.data);
    Reference.reachabilityFence(this);
    Reference.reachabilityFence(t);
    return same;
  }

  @Override
  public int hashCode() {
    return Objects.hash(dtype, Arrays.hashCode(shape));
  }

  @Override
  public String toString() {
    return "Tensor(" + dtype + Arrays.toString(shape) + ")";
  }
}
