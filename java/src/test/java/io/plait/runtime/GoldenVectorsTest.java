package io.plait.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.plait.BaseActorHandle;
import io.plait.ChunkedArray;
import io.plait.ErrorInfo;
import io.plait.ObjectRef;
import io.plait.RecordBatch;
import io.plait.Tensor;
import java.io.File;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** conformance-tests/golden/values.json, every case (docs/object-format.md, "Golden
 * vectors"). */
class GoldenVectorsTest {
  private static final HexFormat HEX = HexFormat.of();

  static JsonNode golden() throws IOException {
    String path = System.getProperty("plait.golden", "../conformance-tests/golden/values.json");
    return new ObjectMapper().readTree(new File(path));
  }

  @Test
  void goldenFileCoversEveryCheck() throws IOException {
    List<String> checks = new ArrayList<>();
    for (JsonNode c : golden().get("cases")) {
      if (!checks.contains(c.get("check").asText())) {
        checks.add(c.get("check").asText());
      }
    }
    assertTrue(checks.containsAll(List.of("bytes", "decode", "refuse", "reject")), checks.toString());
  }

  /** A dtype or Arrow kind of the format table without a golden vector fails here. */
  @Test
  void goldenFileHasAVectorForEveryDTypeAndArrowKind() throws IOException {
    Map<String, String> checks = new LinkedHashMap<>();
    for (JsonNode c : golden().get("cases")) {
      checks.put(c.get("name").asText(), c.get("check").asText());
    }
    for (String dtype : FormatConstants.DTYPES) {
      assertEquals("bytes", checks.get("tensor_dtype_" + dtype), dtype);
    }
    for (String kind : FormatConstants.ARROW_KINDS) {
      assertEquals("decode", checks.get("arrow_" + kind), kind);
    }
  }

  @TestFactory
  Stream<DynamicTest> everyCase() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : golden().get("cases")) {
      String name = c.get("name").asText();
      byte[] bytes = HEX.parseHex(c.get("hex").asText());
      switch (c.get("check").asText()) {
        case "bytes":
          tests.add(DynamicTest.dynamicTest(name + " decodes", () ->
              assertSame(fromJson(c.get("value")), ObjectDecoder.decode(bytes), name)));
          if (!containsTuple(c.get("value"))) {  // Java writes no tuples (arrays instead)
            tests.add(DynamicTest.dynamicTest(name + " encodes to the golden bytes", () ->
                assertEquals(c.get("hex").asText(),
                    HEX.formatHex(ObjectEncoder.encodeToBytes(fromJson(c.get("value")))))));
          }
          break;
        case "decode":
          tests.add(DynamicTest.dynamicTest(name + " decodes (Arrow)", () ->
              checkArrow(c.get("value"), ObjectDecoder.decode(bytes))));
          // The writer's half: Java writes the value, the bytes decode to it, kind included.
          tests.add(DynamicTest.dynamicTest(name + " written by Java decodes to the value", () -> {
            Object value = GoldenArrow.fromJson(c.get("value"));
            byte[] written = ObjectEncoder.encodeToBytes(value);
            ((AutoCloseable) value).close();
            checkArrow(c.get("value"), ObjectDecoder.decode(written));
          }));
          tests.add(DynamicTest.dynamicTest(name + " decodes from a direct buffer", () -> {
            ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length);
            direct.put(bytes).flip();
            checkArrow(c.get("value"), ObjectDecoder.decode(direct));
          }));
          break;
        case "refuse":
          tests.add(DynamicTest.dynamicTest(name + " is refused", () -> {
            CodecException e = assertThrows(CodecException.class,
                () -> ObjectDecoder.decode(bytes));
            String type = c.get("refuse_type").asText();
            assertTrue(e.getMessage().contains("'" + type + "'"), e.getMessage());
            assertTrue(e.getMessage().contains("Python-only"), e.getMessage());
          }));
          break;
        case "reject":
          tests.add(DynamicTest.dynamicTest(name + " is rejected", () -> {
            CodecException e = assertThrows(CodecException.class,
                () -> ObjectDecoder.decode(bytes));
            assertTrue(e.getMessage().startsWith("malformed plait object"), e.getMessage());
          }));
          break;
        default:
          throw new AssertionError("unknown check in " + name);
      }
    }
    return tests.stream();
  }

  // -- JSON value descriptions -> Java values ------------------------------------------

  static boolean containsTuple(JsonNode v) {
    if (v.isObject() && "tuple".equals(v.path("type").asText())) {
      return true;
    }
    for (JsonNode child : v) {
      if (containsTuple(child)) {
        return true;
      }
    }
    return false;
  }

  static Object fromJson(JsonNode v) {
    switch (v.get("type").asText()) {
      case "nil":
        return null;
      case "bool":
        return v.get("value").asBoolean();
      case "int": {
        BigInteger b = new BigInteger(v.get("value").asText());
        return b.bitLength() <= 63 ? (Object) b.longValue() : b;
      }
      case "float":
        return Double.longBitsToDouble(Long.parseUnsignedLong(v.get("bits").asText(), 16));
      case "str":
        return v.get("value").asText();
      case "bin":
        return HEX.parseHex(v.get("hex").asText());
      case "array":
      case "tuple": {
        List<Object> out = new ArrayList<>();
        for (JsonNode item : v.get("items")) {
          out.add(fromJson(item));
        }
        return out;
      }
      case "map": {
        Map<Object, Object> out = new LinkedHashMap<>();
        for (JsonNode e : v.get("entries")) {
          out.put(fromJson(e.get(0)), fromJson(e.get(1)));
        }
        return out;
      }
      case "object_ref": {
        JsonNode o = v.get("owner");
        return ObjectRef.untyped(HEX.parseHex(v.get("object_id").asText()),
            new ObjectRef.Owner(o.get("node_id").asText(), o.get("ip").asText(),
                o.get("port").asLong(), HEX.parseHex(o.get("worker_id").asText())));
      }
      case "actor_handle": {
        @SuppressWarnings("unchecked")
        Map<Object, Object> state = (Map<Object, Object>) fromJson(v.get("state"));
        return BaseActorHandle.fromState(state);
      }
      case "tensor":
        return tensor(v);
      case "error":
        return new ErrorInfo(v.get("type_name").asText(), v.get("message").asText(),
            v.get("language").asText(), v.get("stack").asText(),
            v.get("cause").isNull() ? null : (ErrorInfo) fromJson(v.get("cause")),
            v.get("python_pickle").isNull() ? null : HEX.parseHex(v.get("python_pickle").asText()));
      default:
        throw new AssertionError("no Java value for " + v);
    }
  }

  static Tensor tensor(JsonNode v) {
    String dtype = v.get("dtype").asText();
    int size = Tensor.ITEMSIZE.get(dtype);
    List<Long> shape = new ArrayList<>();
    v.get("shape").forEach(d -> shape.add(d.asLong()));
    ByteBuffer b = ByteBuffer.allocate(size * v.get("data").size()).order(ByteOrder.LITTLE_ENDIAN);
    for (JsonNode x : v.get("data")) {
      switch (dtype) {
        case "bool": b.put((byte) (x.asBoolean() ? 1 : 0)); break;
        case "int8": case "uint8": b.put((byte) x.asLong()); break;
        case "int16": case "uint16": b.putShort((short) x.asLong()); break;
        case "int32": case "uint32": b.putInt((int) x.asLong()); break;
        case "int64": case "uint64": b.putLong(new BigInteger(x.asText()).longValue()); break;
        case "float16": b.putShort(halfBits(x.asDouble())); break;
        case "float32": b.putFloat((float) x.asDouble()); break;
        case "float64": b.putDouble(x.asDouble()); break;
        // [real, imag] pairs
        case "complex64": b.putFloat((float) x.get(0).asDouble()).putFloat((float) x.get(1).asDouble()); break;
        case "complex128": b.putDouble(x.get(0).asDouble()).putDouble(x.get(1).asDouble()); break;
        default: throw new AssertionError("no test support for dtype " + dtype);
      }
    }
    b.flip();
    return new Tensor(dtype, shape.stream().mapToLong(Long::longValue).toArray(), b);
  }

  /** IEEE binary16 bits of x: the golden file gives zero or normal numbers exact in it. */
  static short halfBits(double x) {
    if (x == 0) {
      return (short) (Double.doubleToRawLongBits(x) < 0 ? 0x8000 : 0);
    }
    int bits = Float.floatToRawIntBits((float) x);
    int sign = (bits >>> 16) & 0x8000;
    int exponent = ((bits >>> 23) & 0xff) - 127 + 15;
    int mantissa = bits & 0x7fffff;
    assertTrue(exponent > 0 && exponent < 31 && (mantissa & 0x1fff) == 0,
        x + " is not a normal binary16 number");
    return (short) (sign | (exponent << 10) | (mantissa >>> 13));
  }

  // -- comparison ---------------------------------------------------------------------

  /** Deep equality with the format's rules: floats by bits, bin by content, maps in order. */
  static void assertSame(Object expected, Object actual, String where) {
    if (expected == null || actual == null) {
      assertEquals(expected, actual, where);
    } else if (expected instanceof Double) {
      assertEquals(Double.class, actual.getClass(), where);
      assertEquals(Double.doubleToRawLongBits((Double) expected),
          Double.doubleToRawLongBits((Double) actual), where);
    } else if (expected instanceof byte[]) {
      assertArrayEquals((byte[]) expected, (byte[]) actual, where);
    } else if (expected instanceof List) {
      List<?> e = (List<?>) expected;
      List<?> a = (List<?>) actual;
      assertEquals(e.size(), a.size(), where);
      for (int i = 0; i < e.size(); i++) {
        assertSame(e.get(i), a.get(i), where + "[" + i + "]");
      }
    } else if (expected instanceof Map) {
      List<Map.Entry<?, ?>> e = new ArrayList<>(((Map<?, ?>) expected).entrySet());
      List<Map.Entry<?, ?>> a = new ArrayList<>(((Map<?, ?>) actual).entrySet());
      assertEquals(e.size(), a.size(), where);
      for (int i = 0; i < e.size(); i++) {
        assertSame(e.get(i).getKey(), a.get(i).getKey(), where + " key " + i);
        assertSame(e.get(i).getValue(), a.get(i).getValue(), where + " value " + i);
      }
    } else if (expected instanceof BaseActorHandle) {
      assertEquals(expected.getClass(), actual.getClass(), where);
      assertSame(((BaseActorHandle) expected).state(), ((BaseActorHandle) actual).state(), where);
    } else {
      assertEquals(expected.getClass(), actual.getClass(), where);
      assertEquals(expected, actual, where);
    }
  }

  static void checkArrow(JsonNode v, Object decoded) {
    String kind = v.get("kind").asText();
    if (kind.equals("array")) {
      FieldVector vec = (FieldVector) decoded;
      checkColumn(v.get("values"), vec);
      vec.close();
      return;
    }
    if (kind.equals("chunked_array")) {
      try (ChunkedArray chunks = (ChunkedArray) decoded) {
        assertEquals(v.get("chunks").size(), chunks.size());
        for (int i = 0; i < chunks.size(); i++) {
          checkColumn(v.get("chunks").get(i), chunks.get(i));
        }
      }
      return;
    }
    // A record batch decodes to a RecordBatch (so it is written back as one), a table not.
    assertEquals(kind.equals("record_batch"), decoded instanceof RecordBatch, kind);
    VectorSchemaRoot root = (VectorSchemaRoot) decoded;
    JsonNode schema = v.get("schema");
    assertEquals(schema.size(), root.getFieldVectors().size());
    for (int i = 0; i < schema.size(); i++) {
      assertEquals(schema.get(i).get("name").asText(), root.getSchema().getFields().get(i).getName());
      checkColumn(v.get("columns").get(i), root.getVector(i));
    }
    root.close();
  }

  static void checkColumn(JsonNode values, FieldVector vec) {
    assertEquals(values.size(), vec.getValueCount());
    for (int i = 0; i < values.size(); i++) {
      JsonNode x = values.get(i);
      Object got = vec.getObject(i);
      if (x.isNull()) {
        assertEquals(null, got, "row " + i);
      } else if (x.isBoolean()) {
        assertEquals(x.asBoolean(), got, "row " + i);
      } else if (x.isTextual()) {
        assertEquals(x.asText(), got.toString(), "row " + i);
      } else if (x.isIntegralNumber()) {
        assertEquals(x.asLong(), ((Number) got).longValue(), "row " + i);
      } else {
        assertEquals(x.asDouble(), ((Number) got).doubleValue(), "row " + i);
      }
    }
  }
}
