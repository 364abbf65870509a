package io.plait.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.plait.ObjectRef;
import io.plait.Tensor;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.util.MemoryUtil;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;

class CodecTest {
  static Object roundTrip(Object v) {
    return ObjectDecoder.decode(ObjectEncoder.encodeToBytes(v));
  }

  @Test
  void javaTypesBecomeTheirNeutralForms() {
    assertEquals(5L, roundTrip(5));
    assertEquals(5L, roundTrip((short) 5));
    assertEquals(1.5, roundTrip(1.5f));
    assertEquals("x", roundTrip('x'));
    assertEquals("sb", roundTrip(new StringBuilder("sb")));
    assertEquals(List.of(1L, "a"), roundTrip(new Object[] {1, "a"}));
    assertEquals(new BigInteger("18446744073709551615"),
        roundTrip(new BigInteger("18446744073709551615")));
    assertArrayEquals(new byte[] {1, 2}, (byte[]) roundTrip(ByteBuffer.wrap(new byte[] {1, 2})));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("b", 1L);
    m.put("a", List.of());
    assertEquals(List.of("b", "a"), new ArrayList<>(((Map<?, ?>) roundTrip(m)).keySet()));
  }

  @Test
  void primitiveArraysBecomeTensors() {
    Tensor t = (Tensor) roundTrip(new int[] {1, -2});
    assertEquals("int32", t.dtype());
    assertArrayEquals(new int[] {1, -2}, t.toIntArray());
    assertArrayEquals(new boolean[] {true, false},
        ((Tensor) roundTrip(new boolean[] {true, false})).toBooleanArray());
    assertTrue(t.data().isReadOnly());
  }

  @Test
  void unsupportedValuesAreNamed() {
    CodecException e = assertThrows(CodecException.class,
        () -> ObjectEncoder.encodeToBytes(List.of(new Object())));
    assertTrue(e.getMessage().contains("java.lang.Object"), e.getMessage());
    assertThrows(CodecException.class,
        () -> ObjectEncoder.encodeToBytes(BigInteger.ONE.shiftLeft(64)));
    assertThrows(CodecException.class, () -> ObjectEncoder.encodeToBytes("\ud800"));
    List<Object> cycle = new ArrayList<>();
    cycle.add(cycle);
    assertTrue(assertThrows(CodecException.class, () -> ObjectEncoder.encodeToBytes(cycle))
        .getMessage().contains("cycle"));
  }

  @Test
  void refsAreCollectedBothWays() {
    ObjectRef<Object> ref = ObjectRef.untyped(new byte[20],
        new ObjectRef.Owner("ab", "127.0.0.1", 1234, new byte[16]));
    EncodedObject enc = ObjectEncoder.encode(Map.of("r", ref));
    assertEquals(List.of(ref), enc.refs());
    byte[] bytes = enc.toBytes();
    assertEquals(1, bytes[5]);  // HAS_OBJECT_REFS
    assertEquals(List.of(ref), ObjectDecoder.decodeWithRefs(ByteBuffer.wrap(bytes), null).refs());
  }

  @Test
  void arrowRoundTripsAndReadsInPlaceFromDirectMemory() {
    Schema schema = new Schema(List.of(
        new Field("id", FieldType.nullable(new ArrowType.Int(64, true)), null),
        new Field("name", FieldType.nullable(new ArrowType.Utf8()), null)));
    byte[] bytes;
    try (VectorSchemaRoot root = VectorSchemaRoot.create(schema, ArrowIpc.allocator())) {
      BigIntVector id = (BigIntVector) root.getVector("id");
      VarCharVector name = (VarCharVector) root.getVector("name");
      id.allocateNew(2);
      name.allocateNew(2);
      id.set(0, 10);
      id.set(1, 20);
      name.setSafe(0, "a".getBytes());
      name.setNull(1);
      root.setRowCount(2);
      bytes = ObjectEncoder.encodeToBytes(root);
    }
    ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length);
    direct.put(bytes).flip();
    long start = MemoryUtil.getByteBufferAddress(direct);
    try (VectorSchemaRoot back = (VectorSchemaRoot) ObjectDecoder.decode(direct)) {
      BigIntVector id = (BigIntVector) back.getVector("id");
      assertEquals(20L, id.get(1));
      assertEquals("a", back.getVector("name").getObject(0).toString());
      assertEquals(null, back.getVector("name").getObject(1));
      long at = id.getDataBuffer().memoryAddress();
      assertTrue(at >= start && at < start + bytes.length, "the int64 column is read in place");
    }
  }
}
