package io.plait.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.plait.Tensor;
import java.lang.ref.Reference;
import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.arrow.memory.util.MemoryUtil;
import org.junit.jupiter.api.Test;

/**
 * Memory Java does not own (a Python buffer or store mapping, here a direct buffer with a
 * stand-in owner) stays alive while Java can still read it: the regression of a Java worker
 * that crashed (SIGSEGV in jlong_disjoint_arraycopy) copying a tensor it had fetched with
 * Plait.get into its encoded result after the Tensor, the only holder of the memory's
 * owner, had been collected and the store mapping unmapped.
 */
class ForeignMemoryTest {
  static final int N = 100_000;

  /** An encoded float64 tensor in a direct buffer (as Python hands one to Java). */
  static ByteBuffer encodedTensor() {
    double[] values = new double[N];
    for (int i = 0; i < N; i++) {
      values[i] = i;
    }
    byte[] bytes = ObjectEncoder.encodeToBytes(values);
    ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length);
    direct.put(bytes).flip();
    return direct.asReadOnlyBuffer();
  }

  /** Full GCs until {@code ref} is cleared (true) or a few have run (false). */
  static boolean collected(WeakReference<?> ref) throws InterruptedException {
    for (int i = 0; i < 20 && ref.get() != null; i++) {
      System.gc();
      Thread.sleep(5);
    }
    return ref.get() == null;
  }

  @Test
  void attachingAnOwnerWorksOnThisJvm() {
    assertTrue(ForeignMemory.supported(), "DirectByteBuffer's attachment constructor is not "
        + "reachable: is java.nio opened (--add-opens=java.base/java.nio=ALL-UNNAMED)?");
    ByteBuffer source = encodedTensor();
    source.position(8);
    ByteBuffer owned = ForeignMemory.withOwner(source, new Object());
    assertTrue(owned.isDirect() && owned.isReadOnly());
    assertEquals(source.remaining(), owned.remaining());
    assertEquals(MemoryUtil.getByteBufferAddress(source) + 8,
        MemoryUtil.getByteBufferAddress(owned));
    assertEquals(source.getLong(8), owned.getLong(0));
  }

  @Test
  void anEncodedObjectKeepsTheMemoryOfTheTensorsItWillCopy() throws Exception {
    Object owner = new Object();
    WeakReference<Object> ownerRef = new WeakReference<>(owner);
    // A tensor over memory only its owner keeps (its buffer carries no owner: the codec's
    // explicit hold, which works on any JVM, is what this tests).
    ByteBuffer memory = ByteBuffer.allocateDirect(N * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < N; i++) {
      memory.putDouble(i * 8, i);
    }
    Tensor t = new Tensor("float64", new long[] {N}, memory, owner);
    owner = null;
    // A Java task echoing its argument, or returning what Plait.get gave it: the value is
    // garbage once encoded, before the bytes are copied out.
    EncodedObject encoded = ObjectEncoder.encode(t);
    t = null;
    assertTrue(!collected(ownerRef), "the owner went while the EncodedObject still needs it");
    Tensor back = (Tensor) ObjectDecoder.decode(encoded.toBytes());
    Reference.reachabilityFence(encoded);
    double[] values = back.toDoubleArray();
    assertEquals(N, values.length);
    assertEquals(N - 1.0, values[N - 1]);
  }

  @Test
  void everyViewOfForeignMemoryHoldsItsOwner() throws Exception {
    Object owner = new Object();
    WeakReference<Object> ownerRef = new WeakReference<>(owner);
    Tensor t = (Tensor) ObjectDecoder.decodeWithRefs(encodedTensor(), owner).value();
    owner = null;
    // A tensor's data() (also what a ByteBuffer parameter receives) kept past the tensor.
    ByteBuffer data = t.data().order(ByteOrder.LITTLE_ENDIAN);
    t = null;
    assertTrue(!collected(ownerRef), "the owner went while a view of its memory is reachable");
    assertEquals(N - 1.0, data.getDouble((N - 1) * 8));
    double[] copy = new double[N];
    data.asDoubleBuffer().get(copy);
    assertEquals(12345.0, copy[12345]);
    // Once nothing reaches the memory, the owner goes (no leak).
    data = null;
    copy = null;
    assertTrue(collected(ownerRef), "the owner outlived every view of its memory");
  }

  @Test
  void javaOwnedBuffersAreLeftAsTheyAre() {
    ByteBuffer heap = ByteBuffer.wrap(ObjectEncoder.encodeToBytes(new long[] {1, 2}));
    assertSame(heap, ForeignMemory.withOwner(heap, new Object()));
    ByteBuffer direct = encodedTensor();
    assertSame(direct, ForeignMemory.withOwner(direct, null));
    Tensor t = (Tensor) ObjectDecoder.decodeWithRefs(heap, new Object()).value();
    assertArrayEquals(new long[] {1, 2}, t.toLongArray());
  }
}
