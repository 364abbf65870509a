package io.plait.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import io.plait.ChunkedArray;
import io.plait.RecordBatch;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;

/** Golden `arrow` value descriptions as the Java Arrow objects the codec writes. */
final class GoldenArrow {
  private GoldenArrow() {}

  /** The value of its kind: table, RecordBatch, FieldVector or ChunkedArray. */
  static Object fromJson(JsonNode v) {
    switch (v.get("kind").asText()) {
      case "array":
        return column("", v.get("arrow_type").asText(), v.get("values"));
      case "chunked_array": {
        List<FieldVector> chunks = new ArrayList<>();
        for (JsonNode chunk : v.get("chunks")) {
          chunks.add(column("", v.get("arrow_type").asText(), chunk));
        }
        return new ChunkedArray(chunks);
      }
      default: {  // table, record_batch
        List<FieldVector> columns = new ArrayList<>();
        for (int i = 0; i < v.get("schema").size(); i++) {
          JsonNode f = v.get("schema").get(i);
          columns.add(column(f.get("name").asText(), f.get("type").asText(),
              v.get("columns").get(i)));
        }
        VectorSchemaRoot root = new VectorSchemaRoot(columns);
        return v.get("kind").asText().equals("record_batch") ? new RecordBatch(root) : root;
      }
    }
  }

  static FieldVector column(String name, String type, JsonNode values) {
    int n = values.size();
    switch (type) {
      case "int64": {
        BigIntVector vec = new BigIntVector(name, ArrowIpc.allocator());
        vec.allocateNew(n);
        for (int i = 0; i < n; i++) {
          if (values.get(i).isNull()) vec.setNull(i); else vec.set(i, values.get(i).asLong());
        }
        vec.setValueCount(n);
        return vec;
      }
      case "float64": {
        Float8Vector vec = new Float8Vector(name, ArrowIpc.allocator());
        vec.allocateNew(n);
        for (int i = 0; i < n; i++) {
          if (values.get(i).isNull()) vec.setNull(i); else vec.set(i, values.get(i).asDouble());
        }
        vec.setValueCount(n);
        return vec;
      }
      case "bool": {
        BitVector vec = new BitVector(name, ArrowIpc.allocator());
        vec.allocateNew(n);
        for (int i = 0; i < n; i++) {
          if (values.get(i).isNull()) vec.setNull(i); else vec.set(i, values.get(i).asBoolean() ? 1 : 0);
        }
        vec.setValueCount(n);
        return vec;
      }
      case "utf8": {
        VarCharVector vec = new VarCharVector(name, ArrowIpc.allocator());
        vec.allocateNew(n);
        for (int i = 0; i < n; i++) {
          if (values.get(i).isNull()) {
            vec.setNull(i);
          } else {
            vec.setSafe(i, values.get(i).asText().getBytes(StandardCharsets.UTF_8));
          }
        }
        vec.setValueCount(n);
        return vec;
      }
      default:
        throw new AssertionError("golden Arrow type " + type + " not handled by this test");
    }
  }
}
